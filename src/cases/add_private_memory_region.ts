/**
 * Port of test_add_private_memory_region() of set_memory_region_test.c, on VMs of the
 * group's type (upstream: two SW-protected VMs). A KVM_MEM_GUEST_MEMFD memslot is refused
 * with EINVAL when its fd is the KVM fd, the VM's fd, a plain memfd or another VM's
 * guest_memfd (which that VM itself binds), and at every offset 1..page_size-1; the VM's
 * own guest_memfd at offset 0 binds.
 *
 * The page_size - 1 unaligned offsets go through the batched routine (cases/sweeper.ts)
 * where it can be loaded, in one FFI crossing: the kernel sees upstream's calls in its
 * order, up to the first that does not fail with EINVAL (upstream asserts there); every
 * verdict is taken here from the recorded results.
 */
import { EINVAL } from '../kvm/errno.js';
import type { Kvm } from '../kvm/kvm.js';
import { Memfd } from '../kvm/memfd.js';
import type { Vm } from '../kvm/vm.js';
import { expectErrno, expectOk } from './check.js';
import type { CaseEnv } from './env.js';
import { batchedIoctls } from './sweeper.js';
import { BINDABLE_FLAGS, gmemSlot, MEM_REGION_GPA, MEM_REGION_SIZE, MEM_REGION_SLOT, slotText } from './memory-region.js';

const region = (fd: number, offset = 0) => gmemSlot(MEM_REGION_SLOT, MEM_REGION_GPA, MEM_REGION_SIZE, fd, offset);

/** upstream's test_invalid_guest_memfd(). */
function expectRefused(vm: Vm, fd: number, offset: number, what: string): void {
  expectErrno(vm.trySetUserMemoryRegion2(region(fd, offset)), EINVAL,
    `a KVM_MEM_GUEST_MEMFD memslot on ${what} fails with EINVAL`);
}

export function add_private_memory_region(kvm: Kvm, vmType: number, env: CaseEnv): void {
  using vm = kvm.createVm(vmType);
  expectRefused(vm, vm.kvm.fd, 0, 'the KVM fd');
  expectRefused(vm, vm.fd, 0, 'the VM\'s fd');
  {
    using memfd = Memfd.create('gmemtest', MEM_REGION_SIZE);
    expectRefused(vm, memfd.fd, 0, 'a plain memfd');
  }
  {
    using vm2 = kvm.createVm(vmType);
    using other = vm2.createGuestMemfd(MEM_REGION_SIZE, BINDABLE_FLAGS);
    expectRefused(vm, other.fd, 0, 'another VM\'s guest_memfd');
    expectOk(vm2.trySetUserMemoryRegion2(region(other.fd)),
      `the other VM binds its own guest_memfd (${slotText(region(other.fd))})`);
  }
  using gmem = vm.createGuestMemfd(MEM_REGION_SIZE, BINDABLE_FLAGS);
  unalignedOffsetsRefused(vm, gmem.fd, env.pageSize - 1);
  expectOk(vm.trySetUserMemoryRegion2(region(gmem.fd)), `the VM binds its own guest_memfd (${slotText(region(gmem.fd))})`);
}

/** Every guest_memfd offset 1..last is refused with EINVAL (upstream's loop over test_invalid_guest_memfd()). */
function unalignedOffsetsRefused(vm: Vm, fd: number, last: number): void {
  const what = (offset: number) => `a KVM_MEM_GUEST_MEMFD memslot at unaligned guest_memfd offset ${offset} fails with EINVAL`;
  const b = batchedIoctls();
  if (b === null) {
    for (let offset = 1; offset <= last; offset++) expectErrno(vm.trySetUserMemoryRegion2(region(fd, offset)), EINVAL, () => what(offset));
    return;
  }
  const { results } = b.setMemoryRegion2Offsets(vm.fd, region(fd, 0), 1, last, EINVAL);
  for (let i = 0; i < results.length; i++) {
    const ret = results[i]!;
    // The raw result as libc would have returned it: the same check, the same diagnostic.
    if (ret !== -EINVAL) expectErrno(ret < 0 ? { ret: -1, errno: -ret } : { ret, errno: 0 }, EINVAL, what(i + 1));
  }
  if (results.length !== last) throw new Error(`${results.length} of ${last} offsets were tried`);
}
