/**
 * Where things live in the arm64 guest: slot 0 is ordinary anonymous memory at GPA 0
 * (code, exception vectors, stack, page tables); the memory under test goes at 4 GiB as
 * upstream puts it; the ucall address is the first GPA after slot 0, where no memslot
 * is, so a store there exits to userspace as KVM_EXIT_MMIO (what upstream's arm64 ucall
 * does, at its own first free GPA).
 */
export const SZ_4K = 0x1000;
export const SZ_2M = 0x200000;
export const SZ_1G = 0x40000000;
export const SZ_4G = 0x100000000;

export const LOW_SLOT = 0;
/** Size of slot 0. */
export const LOW_MEM_SIZE = SZ_2M;
/** Page-table pages come from here, the level-1 table (TTBR0_EL1) first. */
export const PT_POOL_GPA = 0x1000;
export const PT_POOL_PAGES = 8;
/** VBAR_EL1: 16 vectors of 128 bytes, 2 KiB aligned. */
export const VECTORS_GPA = 0x9800;
export const VECTORS_SIZE = 0x800;
/** The program is copied here; PC starts here. */
export const CODE_GPA = 0x10000;
export const CODE_MAX = 0x10000;
/** SP_EL1: the top of slot 0. */
export const STACK_TOP = LOW_MEM_SIZE;
/** The ucall address, identity-mapped as device memory (the 2 MiB block after slot 0). */
export const UCALL_GPA = LOW_MEM_SIZE;
