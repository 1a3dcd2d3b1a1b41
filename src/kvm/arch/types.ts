/** What the architecture-neutral layer needs to know about an architecture. */
import type { Stat } from '../structs.js';

export interface ArchUapi {
  /** As the kernel names it (uname -m). */
  readonly name: 'x86_64' | 'arm64';
  /** System call numbers of the calls made through syscall(). */
  readonly sys: {
    readonly fstat: number;
    readonly prctl: number;
    readonly mbind: number;
    readonly get_mempolicy: number;
    readonly move_pages: number;
    readonly gettid: number;
    readonly mmap: number;
    readonly munmap: number;
    readonly madvise: number;
    readonly timer_create: number;
    readonly timer_settime: number;
    readonly timer_delete: number;
  };
  /** The kernel's struct stat: its size and a decoder. */
  readonly stat: { readonly size: number; decode(buf: Buffer): Stat };
  /** KVM_CREATE_VM's type for the default VM. */
  readonly defaultVmType: number;
  /** VM types by number and by the stable name gmemtest reports. */
  readonly vmTypes: readonly { readonly type: number; readonly name: string }[];
  /**
   * guest_memfd creation flags a KVM_MEM_GUEST_MEMFD memslot needs here: arm64 binds only
   * mmap()able guest_memfds (7.2's kvm_arch_prepare_memory_region() refuses the others),
   * x86 any (0).
   */
  readonly gmemSlotFlags: number;
  /** Names of the KVM exit reasons only this architecture produces (diagnostics). */
  readonly exitNames?: readonly (readonly [number, string])[];
}
