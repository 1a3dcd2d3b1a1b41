/**
 * KVM's uapi (include/uapi/linux/kvm.h) as far as gmemtest uses it, grouped by the fd an
 * ioctl is issued on. Architecture-specific ioctls and VM types are in ../arch/<arch>/.
 * Every value is checked against the kernel's headers by test/unit/uapi.test.ts.
 */
import { io, iow, iowr } from '../ioc.js';
import { SIZEOF } from '../structs.js';

export const KVMIO = 0xae;
export const KVM_API_VERSION = 12;

// --- the system fd (/dev/kvm) ---------------------------------------------------------
export const KVM_GET_API_VERSION = io(KVMIO, 0x00);
export const KVM_CREATE_VM = io(KVMIO, 0x01);
/** On the system fd and on a VM fd (a VM's own answer). */
export const KVM_CHECK_EXTENSION = io(KVMIO, 0x03);
export const KVM_GET_VCPU_MMAP_SIZE = io(KVMIO, 0x04);

// --- a VM fd --------------------------------------------------------------------------
export const KVM_CREATE_VCPU = io(KVMIO, 0x41);
export const KVM_SET_USER_MEMORY_REGION = iow(KVMIO, 0x46, SIZEOF.kvm_userspace_memory_region);
export const KVM_SET_USER_MEMORY_REGION2 = iow(KVMIO, 0x49, SIZEOF.kvm_userspace_memory_region2);
export const KVM_CREATE_GUEST_MEMFD = iowr(KVMIO, 0xd4, SIZEOF.kvm_create_guest_memfd);

// --- a vCPU fd ------------------------------------------------------------------------
export const KVM_RUN = io(KVMIO, 0x80);

// --- capabilities (KVM_CHECK_EXTENSION) -----------------------------------------------
export const KVM_CAP_USER_MEMORY2 = 231;
export const KVM_CAP_MEMORY_ATTRIBUTES = 233;
export const KVM_CAP_GUEST_MEMFD = 234;
export const KVM_CAP_VM_TYPES = 235;
export const KVM_CAP_GUEST_MEMFD_FLAGS = 244;

// --- guest_memfd: creation flags, and the memslot flag that binds one -----------------
export const GUEST_MEMFD_FLAG_MMAP = 1 << 0;
export const GUEST_MEMFD_FLAG_INIT_SHARED = 1 << 1;
export const KVM_MEM_GUEST_MEMFD = 1 << 2;

// --- the other memslot flags, and the memory attribute guest_memfd memory stands for ---
export const KVM_MEM_LOG_DIRTY_PAGES = 1 << 0;
export const KVM_MEM_READONLY = 1 << 1;
export const KVM_MEMORY_ATTRIBUTE_PRIVATE = 1 << 3;

// --- kvm_run.exit_reason ----------------------------------------------------------------
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
