/**
 * aarch64's part of the uapi: system call numbers (the generic table,
 * include/uapi/asm-generic/unistd.h, which arm64 uses as it is), the generic struct stat
 * (glibc's arm64 struct stat is the kernel's), the VM type, and the vCPU ioctls and
 * structs of a minimal arm64 vCPU (KVM_ARM_PREFERRED_TARGET, KVM_ARM_VCPU_INIT,
 * KVM_SET/GET_ONE_REG). Checked against fixtures/uapi-arm64.json (computed by the
 * aarch64 cross compiler from Debian's arm64 headers) by test/unit/uapi.test.ts.
 *
 * Everything else src/kvm uses (KVM ioctls and kvm_run, guest_memfd and memslot structs,
 * mm/NUMA flags, sigevent, itimerspec) is the same on arm64 as on x86-64; the test
 * asserts that name by name against this architecture's fixture.
 *
 * The VM type: on arm64 KVM_CREATE_VM's type is not a VM kind but, in its low byte, the
 * guest's IPA size (0 = the default 40 bits, KVM_PHYS_SHIFT), with bit 31 asking for a
 * protected VM under pKVM. arm64 has no KVM_CAP_VM_TYPES (0), so gmemtest, like
 * upstream's guest_memfd_test, tests the default VM only. Type 0 also keeps a TCG guest
 * fast: an emulated 52-bit VM took 15.7 s to close, a 40-bit one 17 ms (see README).
 */
import { ior, iow } from '../../ioc.js';
import type { Stat } from '../../structs.js';
import { GUEST_MEMFD_FLAG_MMAP, KVMIO } from '../../uapi/kvm.js';
import type { ArchUapi } from '../types.js';

// ---- system calls (asm-generic/unistd.h) -----------------------------------------------
export const SYS_read = 63;
export const SYS_write = 64;
export const SYS_ioctl = 29;
export const SYS_fstat = 80;
export const SYS_exit_group = 94;
export const SYS_timer_create = 107;
export const SYS_timer_settime = 110;
export const SYS_timer_delete = 111;
export const SYS_kill = 129;
export const SYS_rt_sigaction = 134;
export const SYS_rt_sigreturn = 139;
export const SYS_prctl = 167;
export const SYS_getpid = 172;
export const SYS_getppid = 173;
export const SYS_gettid = 178;
export const SYS_munmap = 215;
export const SYS_mmap = 222;
export const SYS_madvise = 233;
export const SYS_mbind = 235;
export const SYS_get_mempolicy = 236;
export const SYS_move_pages = 239;
export const SYS_pidfd_open = 434;
export const SYS_close_range = 436;

/**
 * What the generated programs of src/native/arm64/ also need: signal numbers (asm/signal.h
 * is per architecture; these equal x86-64's) and a prctl option.
 */
export const SIGBUS = 7;
export const SIGSEGV = 11;
export const PR_SET_DUMPABLE = 4;

/** rt_sigaction flags as the kernel takes them (asm-generic/signal-defs.h; SA_RESTORER: asm/signal.h). */
export const SA_SIGINFO = 0x4;
export const SA_RESTORER = 0x04000000;
export const SA_NODEFER = 0x40000000;
export const SA_RESETHAND = 0x80000000;

// ---- VM types ----------------------------------------------------------------------------
/** KVM_CREATE_VM type 0: the default IPA size (40 bits), not protected. */
export const KVM_ARM_DEFAULT_VM = 0;
export const KVM_VM_TYPE_ARM_IPA_SIZE_MASK = 0xff;
export const KVM_VM_TYPE_ARM_PROTECTED = 2 ** 31;
export const KVM_VM_TYPE_ARM_MASK = KVM_VM_TYPE_ARM_IPA_SIZE_MASK + KVM_VM_TYPE_ARM_PROTECTED;

// ---- capabilities and exits only arm64 has ----------------------------------------------
export const KVM_CAP_ONE_REG = 70;
export const KVM_CAP_ARM_VM_IPA_SIZE = 165;
/** A data abort KVM cannot decode (no valid syndrome), with KVM_CAP_ARM_NISV_TO_USER. */
export const KVM_EXIT_ARM_NISV = 28;
/** A synchronous external abort handed to userspace (KVM_CAP_ARM_SEA_TO_USER). */
export const KVM_EXIT_ARM_SEA = 41;

// ---- structs -----------------------------------------------------------------------------
export const ARM64_SIZEOF = {
  /** __u32 target; __u32 features[7]. */
  kvm_vcpu_init: 32,
  /** __u64 id; __u64 addr (where the value is read from / written to). */
  kvm_one_reg: 16,
  /** The generic struct stat (asm-generic/stat.h). */
  stat: 128,
} as const;

export const ARM64_OFFSETOF = {
  kvm_vcpu_init: { target: 0, features: 4 },
  kvm_one_reg: { id: 0, addr: 8 },
  /** Where the core registers sit in struct kvm_regs: their ONE_REG ids are made from this. */
  kvm_regs: { 'regs.regs': 0, 'regs.sp': 248, 'regs.pc': 256, 'regs.pstate': 264, sp_el1: 272, elr_el1: 280 },
  kvm_run: { 'arm_nisv.esr_iss': 32, 'arm_nisv.fault_ipa': 40 },
  /** The head of siginfo_t (what the access helper's FAULT message carries). */
  siginfo: { si_signo: 0, si_errno: 4, si_code: 8, si_addr: 16 },
  stat: {
    st_dev: 0, st_ino: 8, st_mode: 16, st_nlink: 20, st_uid: 24, st_gid: 28, st_rdev: 32, st_size: 48,
    st_blksize: 56, st_blocks: 64,
  },
} as const;

/** Number of __u32 words in kvm_vcpu_init.features. */
export const KVM_VCPU_INIT_FEATURE_WORDS = 7;

// ---- ioctls ------------------------------------------------------------------------------
/** On a VM fd: the target and features KVM suggests for this host's CPUs. */
export const KVM_ARM_PREFERRED_TARGET = ior(KVMIO, 0xaf, ARM64_SIZEOF.kvm_vcpu_init);
/** On a vCPU fd: resets the vCPU to the architected state of that target. */
export const KVM_ARM_VCPU_INIT = iow(KVMIO, 0xae, ARM64_SIZEOF.kvm_vcpu_init);
/** On a vCPU fd: one register by id (both are _IOW: the struct is only read by KVM). */
export const KVM_GET_ONE_REG = iow(KVMIO, 0xab, ARM64_SIZEOF.kvm_one_reg);
export const KVM_SET_ONE_REG = iow(KVMIO, 0xac, ARM64_SIZEOF.kvm_one_reg);

// ---- ONE_REG ids (asm/kvm.h) --------------------------------------------------------------
export const KVM_REG_ARM64 = 0x6000000000000000n;
export const KVM_REG_SIZE_U64 = 0x0030000000000000n;
/** Coprocessor field values (bits 16-31) of the two register groups used here. */
export const KVM_REG_ARM_CORE = 0x10 << 16;
export const KVM_REG_ARM64_SYSREG = 0x13 << 16;

/** The id of a 64-bit core register at byte offset `offset` of struct kvm_regs (its 32-bit word index). */
export function coreRegId(offset: number): bigint {
  if (offset % 8 !== 0) throw new RangeError(`core register offset ${offset} is not a 64-bit slot`);
  return KVM_REG_ARM64 | KVM_REG_SIZE_U64 | BigInt(KVM_REG_ARM_CORE) | BigInt(offset / 4);
}

/** The id of a system register by its MRS/MSR encoding (op0, op1, CRn, CRm, op2). */
export function sysRegId(op0: number, op1: number, crn: number, crm: number, op2: number): bigint {
  const enc = (op0 << 14) | (op1 << 11) | (crn << 7) | (crm << 3) | op2;
  return KVM_REG_ARM64 | KVM_REG_SIZE_U64 | BigInt(KVM_REG_ARM64_SYSREG) | BigInt(enc);
}

const K = ARM64_OFFSETOF.kvm_regs;

/** The registers gmemtest's arm64 guest reads or writes, by their ONE_REG ids. */
export const REG = {
  x: (n: number): bigint => {
    if (!Number.isInteger(n) || n < 0 || n > 30) throw new RangeError(`no register x${n}`);
    return coreRegId(K['regs.regs'] + 8 * n);
  },
  sp: coreRegId(K['regs.sp']),
  pc: coreRegId(K['regs.pc']),
  pstate: coreRegId(K['regs.pstate']),
  sp_el1: coreRegId(K.sp_el1),
  elr_el1: coreRegId(K.elr_el1),
  SCTLR_EL1: sysRegId(3, 0, 1, 0, 0),
  CPACR_EL1: sysRegId(3, 0, 1, 0, 2),
  TTBR0_EL1: sysRegId(3, 0, 2, 0, 0),
  TCR_EL1: sysRegId(3, 0, 2, 0, 2),
  MAIR_EL1: sysRegId(3, 0, 10, 2, 0),
  VBAR_EL1: sysRegId(3, 0, 12, 0, 0),
  ID_AA64MMFR0_EL1: sysRegId(3, 0, 0, 7, 0),
} as const;

/** PSTATE: EL1 with SP_EL1 (M[3:0] = 0b0101) and the D, A, I, F masks. */
export const PSR_MODE_EL1h = 0x5;
export const PSR_F_BIT = 0x40;
export const PSR_I_BIT = 0x80;
export const PSR_A_BIT = 0x100;
export const PSR_D_BIT = 0x200;

function decodeStat(buf: Buffer): Stat {
  const o = ARM64_OFFSETOF.stat;
  return {
    dev: Number(buf.readBigUInt64LE(o.st_dev)),
    ino: Number(buf.readBigUInt64LE(o.st_ino)),
    // 32-bit st_mode and st_nlink here (64-bit nlink before a 32-bit mode on x86-64).
    nlink: buf.readUInt32LE(o.st_nlink),
    mode: buf.readUInt32LE(o.st_mode),
    size: Number(buf.readBigInt64LE(o.st_size)),
    blksize: buf.readInt32LE(o.st_blksize),
    blocks: Number(buf.readBigInt64LE(o.st_blocks)),
  };
}

export const arm64: ArchUapi = {
  name: 'arm64',
  sys: {
    fstat: SYS_fstat, prctl: SYS_prctl, mbind: SYS_mbind, get_mempolicy: SYS_get_mempolicy,
    move_pages: SYS_move_pages, gettid: SYS_gettid, mmap: SYS_mmap, munmap: SYS_munmap, madvise: SYS_madvise,
    timer_create: SYS_timer_create, timer_settime: SYS_timer_settime, timer_delete: SYS_timer_delete,
  },
  stat: { size: ARM64_SIZEOF.stat, decode: decodeStat },
  defaultVmType: KVM_ARM_DEFAULT_VM,
  vmTypes: [{ type: KVM_ARM_DEFAULT_VM, name: 'default_vm' }],
  gmemSlotFlags: GUEST_MEMFD_FLAG_MMAP,
  exitNames: [[KVM_EXIT_ARM_NISV, 'KVM_EXIT_ARM_NISV'], [KVM_EXIT_ARM_SEA, 'KVM_EXIT_ARM_SEA']],
};
