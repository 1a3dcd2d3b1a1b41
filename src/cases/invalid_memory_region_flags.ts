/**
 * Port of test_invalid_memory_region_flags() of set_memory_region_test.c, on a VM of the
 * group's type (upstream takes the SW-protected VM when there is one, the default VM
 * otherwise). Each of the 32 memslot flag bits that KVM does not support must be refused
 * with EINVAL by KVM_SET_USER_MEMORY_REGION2 and by KVM_SET_USER_MEMORY_REGION, and
 * KVM_MEM_GUEST_MEMFD, which only the second version carries, by the first. Where the
 * VM takes guest_memfd memslots, a guest_memfd memslot may be neither dirty-logged nor
 * read-only: EINVAL for both.
 *
 * Upstream counts KVM_MEM_GUEST_MEMFD as supported when the system's
 * KVM_CAP_MEMORY_ATTRIBUTES has PRIVATE, from when only private-memory VMs had guest_memfd
 * memslots. Since 6.18 any VM whose KVM_CAP_GUEST_MEMFD is set takes them (7.2's
 * check_memory_region_flags() allows the flag wherever guest_memfd is built in), so either
 * answer counts here: the dirty-log and read-only refusals are checked on every VM type
 * that could be given such a memslot, not only where private memory exists.
 */
import { EINVAL } from '../kvm/errno.js';
import { hex } from '../kvm/hex.js';
import type { Kvm } from '../kvm/kvm.js';
import {
  KVM_CAP_GUEST_MEMFD, KVM_CAP_MEMORY_ATTRIBUTES, KVM_MEM_GUEST_MEMFD, KVM_MEM_LOG_DIRTY_PAGES, KVM_MEM_READONLY,
  KVM_MEMORY_ATTRIBUTE_PRIVATE,
} from '../kvm/uapi/kvm.js';
import { expectErrno } from './check.js';
import { MEM_REGION_SIZE } from './memory-region.js';

/** The flags upstream calls supported on every architecture gmemtest runs on (x86-64, arm64). */
const ALWAYS_SUPPORTED = KVM_MEM_LOG_DIRTY_PAGES | KVM_MEM_READONLY;
/** Flags that only struct kvm_userspace_memory_region2 may carry. */
const V2_ONLY = KVM_MEM_GUEST_MEMFD;

export function invalid_memory_region_flags(kvm: Kvm, vmType: number): void {
  using vm = kvm.createVm(vmType);
  let supported = ALWAYS_SUPPORTED;
  const privateMemory = (kvm.checkExtension(KVM_CAP_MEMORY_ATTRIBUTES) & KVM_MEMORY_ATTRIBUTE_PRIVATE) !== 0;
  if (privateMemory || vm.checkExtension(KVM_CAP_GUEST_MEMFD) > 0) supported |= KVM_MEM_GUEST_MEMFD;

  for (let i = 0; i < 32; i++) {
    const bit = (1 << i) >>> 0;
    if ((supported & bit) && !(V2_ONLY & bit)) continue;
    const region = { slot: 0, flags: bit, guestPhysAddr: 0, memorySize: MEM_REGION_SIZE, userspaceAddr: 0 };
    expectErrno(vm.trySetUserMemoryRegion(region), EINVAL,
      () => `KVM_SET_USER_MEMORY_REGION with flag ${hex(bit)} (${V2_ONLY & bit ? 'only version 2 has it' : 'unsupported'}) fails with EINVAL`);
    if (supported & bit) continue;
    expectErrno(vm.trySetUserMemoryRegion2({ ...region, guestMemfd: 0, guestMemfdOffset: 0 }), EINVAL,
      () => `KVM_SET_USER_MEMORY_REGION2 with unsupported flag ${hex(bit)} fails with EINVAL`);
  }

  if (!(supported & KVM_MEM_GUEST_MEMFD)) return;
  using gmem = vm.createGuestMemfd(MEM_REGION_SIZE, 0);
  const gmemRegion = (extra: number) => ({
    slot: 0, flags: extra | KVM_MEM_GUEST_MEMFD, guestPhysAddr: 0, memorySize: MEM_REGION_SIZE,
    userspaceAddr: 0, guestMemfd: gmem.fd, guestMemfdOffset: 0,
  });
  expectErrno(vm.trySetUserMemoryRegion2(gmemRegion(KVM_MEM_LOG_DIRTY_PAGES)), EINVAL,
    'a guest_memfd memslot with KVM_MEM_LOG_DIRTY_PAGES (dirty logging of private memory) fails with EINVAL');
  expectErrno(vm.trySetUserMemoryRegion2(gmemRegion(KVM_MEM_READONLY)), EINVAL,
    'a guest_memfd memslot with KVM_MEM_READONLY fails with EINVAL');
}
