/**
 * KVM and libc numbers from the uapi headers (x86_64). Every value here is checked
 * by test/unit/uapi.test.ts against fixtures/uapi-x86_64.json, which
 * scripts/uapi/gen-fixture.sh prints from the kernel's own headers.
 */
import { io, ior, iow, iowr } from './ioc.js';
import { SIZEOF } from './structs.js';

export const KVMIO = 0xae;
export const KVM_API_VERSION = 12;

export const KVM_GET_API_VERSION = io(KVMIO, 0x00);
export const KVM_CREATE_VM = io(KVMIO, 0x01);
export const KVM_CHECK_EXTENSION = io(KVMIO, 0x03);
export const KVM_GET_VCPU_MMAP_SIZE = io(KVMIO, 0x04);
export const KVM_GET_SUPPORTED_CPUID = iowr(KVMIO, 0x05, 8);
export const KVM_CREATE_VCPU = io(KVMIO, 0x41);
export const KVM_SET_USER_MEMORY_REGION = iow(KVMIO, 0x46, SIZEOF.kvm_userspace_memory_region);
export const KVM_SET_USER_MEMORY_REGION2 = iow(KVMIO, 0x49, SIZEOF.kvm_userspace_memory_region2);
export const KVM_RUN = io(KVMIO, 0x80);
export const KVM_GET_REGS = ior(KVMIO, 0x81, SIZEOF.kvm_regs);
export const KVM_SET_REGS = iow(KVMIO, 0x82, SIZEOF.kvm_regs);
export const KVM_GET_SREGS = ior(KVMIO, 0x83, SIZEOF.kvm_sregs);
export const KVM_SET_SREGS = iow(KVMIO, 0x84, SIZEOF.kvm_sregs);
export const KVM_SET_CPUID2 = iow(KVMIO, 0x90, 8);
export const KVM_CREATE_GUEST_MEMFD = iowr(KVMIO, 0xd4, SIZEOF.kvm_create_guest_memfd);

export const KVM_CAP_USER_MEMORY2 = 231;
export const KVM_CAP_MEMORY_ATTRIBUTES = 233;
export const KVM_CAP_GUEST_MEMFD = 234;
export const KVM_CAP_VM_TYPES = 235;
export const KVM_CAP_GUEST_MEMFD_FLAGS = 244;

export const GUEST_MEMFD_FLAG_MMAP = 1 << 0;
export const GUEST_MEMFD_FLAG_INIT_SHARED = 1 << 1;
export const KVM_MEM_GUEST_MEMFD = 1 << 2;

export const KVM_X86_DEFAULT_VM = 0;
export const KVM_X86_SW_PROTECTED_VM = 1;
export const KVM_X86_SEV_VM = 2;
export const KVM_X86_SEV_ES_VM = 3;
export const KVM_X86_SNP_VM = 4;
export const KVM_X86_TDX_VM = 5;

export const KVM_EXIT_UNKNOWN = 0;
export const KVM_EXIT_EXCEPTION = 1;
export const KVM_EXIT_IO = 2;
export const KVM_EXIT_HLT = 5;
export const KVM_EXIT_MMIO = 6;
export const KVM_EXIT_SHUTDOWN = 8;
export const KVM_EXIT_FAIL_ENTRY = 9;
export const KVM_EXIT_INTR = 10;
export const KVM_EXIT_INTERNAL_ERROR = 17;
export const KVM_EXIT_SYSTEM_EVENT = 24;
export const KVM_EXIT_MEMORY_FAULT = 39;
export const KVM_EXIT_IO_IN = 0;
export const KVM_EXIT_IO_OUT = 1;

export const FIOCLEX = 0x5451;

export const O_RDONLY = 0;
export const O_RDWR = 2;
export const O_CLOEXEC = 0o2000000;

export const PROT_NONE = 0;
export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const PROT_EXEC = 4;
export const MAP_SHARED = 0x01;
export const MAP_PRIVATE = 0x02;
export const MAP_FIXED = 0x10;
export const MAP_ANONYMOUS = 0x20;
export const MAP_NORESERVE = 0x4000;
export const MADV_DONTNEED = 4;
export const MADV_HUGEPAGE = 14;
export const MADV_COLLAPSE = 25;

export const FALLOC_FL_KEEP_SIZE = 0x01;
export const FALLOC_FL_PUNCH_HOLE = 0x02;

export const MPOL_DEFAULT = 0;
export const MPOL_PREFERRED = 1;
export const MPOL_BIND = 2;
export const MPOL_INTERLEAVE = 3;
export const MPOL_F_NODE = 1 << 0;
export const MPOL_F_ADDR = 1 << 1;

export const SYS_fstat = 5;
export const SYS_prctl = 157;
export const PR_SET_PDEATHSIG = 1;
export const SIGKILL = 9;
export const SYS_mbind = 237;
export const SYS_get_mempolicy = 239;
export const SYS_move_pages = 279;
