/**
 * What the memslot cases share: set_memory_region_test.c's region (slot 10, 2 MiB at
 * GPA 3 GiB) and the memslot that binds a guest_memfd, as kvm_util's
 * vm_set_user_memory_region2() is called with KVM_MEM_GUEST_MEMFD and no host address.
 */
import { ARCH } from '../kvm/arch/index.js';
import { KVM_MEM_GUEST_MEMFD } from '../kvm/uapi/kvm.js';
import type { MemoryRegion2 } from '../kvm/structs.js';

export const MEM_REGION_SIZE = 0x20_0000;
export const MEM_REGION_GPA = 0xc000_0000;
export const MEM_REGION_SLOT = 10;

/**
 * The flags of the guest_memfds the memslot cases bind: upstream's 0 on x86; on arm64,
 * which binds only mmap()able guest_memfds, MMAP (ARCH.gmemSlotFlags).
 */
export const BINDABLE_FLAGS = ARCH.gmemSlotFlags;

/** A KVM_MEM_GUEST_MEMFD memslot, userspace_addr 0; `fd` -1 and `size` 0 delete the slot. */
export function gmemSlot(slot: number, gpa: number, size: number, fd: number,
  offset: number | bigint): MemoryRegion2 {
  return {
    slot, flags: KVM_MEM_GUEST_MEMFD, guestPhysAddr: gpa, memorySize: size, userspaceAddr: 0,
    guestMemfd: fd, guestMemfdOffset: offset,
  };
}

/** "slot 10 at gpa 0xc0000000 (2 MiB) -> fd 5 offset 0x1000", for check descriptions. */
export function slotText(r: MemoryRegion2): string {
  const mib = r.memorySize / 0x10_0000;
  return `slot ${r.slot} at gpa 0x${r.guestPhysAddr.toString(16)} (${mib} MiB), guest_memfd offset 0x${r.guestMemfdOffset.toString(16)}`;
}
