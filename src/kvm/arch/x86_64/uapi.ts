/**
 * x86_64's part of the uapi: system call numbers (arch/x86/entry/syscalls/syscall_64.tbl),
 * struct stat (glibc's and the kernel's are the same here), the x86 VM types and vCPU
 * ioctls, and the layouts of the structs those ioctls take. Checked against
 * fixtures/uapi-x86_64.json by test/unit/uapi.test.ts.
 */
import { ior, iow, iowr } from '../../ioc.js';
import { u64, type Stat } from '../../structs.js';
import { KVMIO } from '../../uapi/kvm.js';
import type { ArchUapi } from '../types.js';

export const SYS_fstat = 5;
export const SYS_prctl = 157;
export const SYS_mbind = 237;
export const SYS_get_mempolicy = 239;
export const SYS_move_pages = 279;
export const SYS_gettid = 186;
export const SYS_mmap = 9;
export const SYS_munmap = 11;
export const SYS_madvise = 28;
export const SYS_timer_create = 222;
export const SYS_timer_settime = 223;
export const SYS_timer_delete = 226;

export const KVM_X86_DEFAULT_VM = 0;
export const KVM_X86_SW_PROTECTED_VM = 1;
export const KVM_X86_SEV_VM = 2;
export const KVM_X86_SEV_ES_VM = 3;
export const KVM_X86_SNP_VM = 4;
export const KVM_X86_TDX_VM = 5;

const REG_NAMES = [
  'rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rsp', 'rbp',
  'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rip', 'rflags',
] as const;
export type RegName = (typeof REG_NAMES)[number];

const SEGMENT_NAMES = ['cs', 'ds', 'es', 'fs', 'gs', 'ss', 'tr', 'ldt'] as const;
export type SegmentName = (typeof SEGMENT_NAMES)[number];

function consecutive<K extends string>(names: readonly K[], start: number, stride: number): Record<K, number> {
  const out = {} as Record<K, number>;
  names.forEach((n, i) => { out[n] = start + i * stride; });
  return out;
}

export const X86_SIZEOF = {
  kvm_regs: 144,
  kvm_sregs: 312,
  kvm_segment: 24,
  kvm_dtable: 16,
  /** The header of struct kvm_cpuid2 (nent, padding); the entries follow. */
  kvm_cpuid2: 8,
  kvm_cpuid_entry2: 40,
  stat: 144,
} as const;

export const X86_OFFSETOF = {
  kvm_regs: consecutive(REG_NAMES, 0, 8),
  kvm_segment: {
    base: 0, limit: 8, selector: 12, type: 14, present: 15, dpl: 16, db: 17, s: 18, l: 19,
    g: 20, avl: 21, unusable: 22,
  },
  kvm_dtable: { base: 0, limit: 8 },
  kvm_sregs: {
    ...consecutive(SEGMENT_NAMES, 0, X86_SIZEOF.kvm_segment),
    gdt: 192, idt: 208, cr0: 224, cr2: 232, cr3: 240, cr4: 248, cr8: 256, efer: 264,
    apic_base: 272, interrupt_bitmap: 280,
  },
  kvm_cpuid2: { nent: 0, entries: 8 },
  stat: {
    st_dev: 0, st_ino: 8, st_nlink: 16, st_mode: 24, st_size: 48, st_blksize: 56, st_blocks: 64,
  },
} as const;

// --- a system fd ------------------------------------------------------------------------
export const KVM_GET_SUPPORTED_CPUID = iowr(KVMIO, 0x05, X86_SIZEOF.kvm_cpuid2);
// --- a vCPU fd --------------------------------------------------------------------------
export const KVM_GET_REGS = ior(KVMIO, 0x81, X86_SIZEOF.kvm_regs);
export const KVM_SET_REGS = iow(KVMIO, 0x82, X86_SIZEOF.kvm_regs);
export const KVM_GET_SREGS = ior(KVMIO, 0x83, X86_SIZEOF.kvm_sregs);
export const KVM_SET_SREGS = iow(KVMIO, 0x84, X86_SIZEOF.kvm_sregs);
export const KVM_SET_CPUID2 = iow(KVMIO, 0x90, X86_SIZEOF.kvm_cpuid2);

function decodeStat(buf: Buffer): Stat {
  const o = X86_OFFSETOF.stat;
  return {
    dev: u64(buf, o.st_dev),
    ino: u64(buf, o.st_ino),
    nlink: u64(buf, o.st_nlink),
    mode: buf.readUInt32LE(o.st_mode),
    size: Number(buf.readBigInt64LE(o.st_size)),
    blksize: Number(buf.readBigInt64LE(o.st_blksize)),
    blocks: Number(buf.readBigInt64LE(o.st_blocks)),
  };
}

export const x86_64: ArchUapi = {
  name: 'x86_64',
  sys: {
    fstat: SYS_fstat, prctl: SYS_prctl, mbind: SYS_mbind, get_mempolicy: SYS_get_mempolicy,
    move_pages: SYS_move_pages, gettid: SYS_gettid, mmap: SYS_mmap, munmap: SYS_munmap, madvise: SYS_madvise, timer_create: SYS_timer_create, timer_settime: SYS_timer_settime,
    timer_delete: SYS_timer_delete,
  },
  stat: { size: X86_SIZEOF.stat, decode: decodeStat },
  defaultVmType: KVM_X86_DEFAULT_VM,
  vmTypes: [
    { type: KVM_X86_DEFAULT_VM, name: 'default_vm' },
    { type: KVM_X86_SW_PROTECTED_VM, name: 'sw_protected_vm' },
    { type: KVM_X86_SEV_VM, name: 'sev_vm' },
    { type: KVM_X86_SEV_ES_VM, name: 'sev_es_vm' },
    { type: KVM_X86_SNP_VM, name: 'snp_vm' },
    { type: KVM_X86_TDX_VM, name: 'tdx_vm' },
  ],
  gmemSlotFlags: 0,
};
