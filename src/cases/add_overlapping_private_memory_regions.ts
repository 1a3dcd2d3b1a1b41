/**
 * Port of test_add_overlapping_private_memory_regions() of set_memory_region_test.c, on a
 * VM of the group's type (upstream: a SW-protected VM). Two memslots bind the two halves
 * of a 10 MiB guest_memfd's first 8 MiB; with the first deleted, a memslot whose file
 * range overlaps the second's binding is refused with EEXIST, whether its GPA range is
 * free or overlaps the second slot's, at either end.
 */
import { EEXIST } from '../kvm/errno.js';
import type { Kvm } from '../kvm/kvm.js';
import type { MemoryRegion2 } from '../kvm/structs.js';
import { expectErrno, expectOk } from './check.js';
import { BINDABLE_FLAGS, gmemSlot, MEM_REGION_GPA, MEM_REGION_SIZE, MEM_REGION_SLOT, slotText } from './memory-region.js';

const SIZE = MEM_REGION_SIZE;
const GPA = MEM_REGION_GPA;

export function add_overlapping_private_memory_regions(kvm: Kvm, vmType: number): void {
  using vm = kvm.createVm(vmType);
  using gmem = vm.createGuestMemfd(SIZE * 5, BINDABLE_FLAGS);
  const slot = (n: number, gpa: number, offset: number): MemoryRegion2 =>
    gmemSlot(MEM_REGION_SLOT + n, gpa, SIZE * 2, gmem.fd, offset);
  const bind = (r: MemoryRegion2, what: string): void => {
    expectOk(vm.trySetUserMemoryRegion2(r), `${what} (${slotText(r)}) binds`);
  };
  const overlap = (r: MemoryRegion2, what: string): void => {
    expectErrno(vm.trySetUserMemoryRegion2(r), EEXIST, `${what} (${slotText(r)}) fails with EEXIST`);
  };

  bind(slot(0, GPA, 0), 'the first memslot');
  bind(slot(1, GPA * 2, SIZE * 2), 'the second memslot');
  expectOk(vm.trySetUserMemoryRegion2(gmemSlot(MEM_REGION_SLOT, GPA, 0, -1, 0)), 'deleting the first memslot succeeds');

  overlap(slot(0, GPA, SIZE), 'a memslot over the front half of the second one\'s file range');
  overlap(slot(0, GPA, SIZE * 3), 'a memslot over the back half of the second one\'s file range');
  overlap(slot(0, GPA * 2 - SIZE, 0), 'a memslot over the front half of the second one\'s GPA range');
  overlap(slot(0, GPA * 2 + SIZE, 0), 'a memslot over the back half of the second one\'s GPA range');
}
