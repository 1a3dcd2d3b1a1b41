/**
 * Linux numbers gmemtest uses that are not KVM's and are the same on x86_64 and arm64:
 * open flags, mmap/madvise, fallocate, NUMA memory policy, prctl, signals, FIOCLEX.
 * System call numbers and struct stat differ per architecture: ../arch/<arch>/.
 * Every value is checked against the kernel's headers by test/unit/uapi.test.ts.
 */

export const O_RDONLY = 0;
export const O_RDWR = 2;
export const O_CLOEXEC = 0o2000000;
export const MFD_CLOEXEC = 1;

/** ioctl: set close-on-exec (asm-generic/ioctls.h). */
export const FIOCLEX = 0x5451;

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

export const PR_SET_PDEATHSIG = 1;
export const SIGKILL = 9;
export const SIGUSR2 = 12;

/** POSIX timers: the clock, and delivery to one thread (struct sigevent's notify). */
export const CLOCK_MONOTONIC = 1;
export const SIGEV_THREAD_ID = 4;
