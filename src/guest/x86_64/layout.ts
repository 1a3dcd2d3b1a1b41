/**
 * Where things live in slot 0, the guest's low memory (ordinary anonymous memory at
 * GPA 0, identity-mapped by one 2 MiB page). Upstream keeps slot 0 below 1 GiB and
 * uses GPA 4 GiB for the memory under test; so does this.
 */
export const SZ_4K = 0x1000;
export const SZ_2M = 0x200000;
export const SZ_1G = 0x40000000;
export const SZ_4G = 0x100000000;

export const LOW_SLOT = 0;
/** Size of slot 0. */
export const LOW_MEM_SIZE = SZ_2M;
/** Page-table pages are taken from here, the PML4 first. */
export const PT_POOL_GPA = 0x1000;
export const PT_POOL_PAGES = 8;
export const GDT_GPA = 0x9000;
export const TSS_GPA = 0xa000;
/** The program is copied here; rip starts here. */
export const CODE_GPA = 0x10000;
export const CODE_MAX = 0x10000;
/** Initial rsp: the top of slot 0 (the stack grows down into it). */
export const STACK_TOP = LOW_MEM_SIZE;
