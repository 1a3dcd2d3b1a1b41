/*
 * The uapi numbers gmemtest needs on arm64, from the kernel's own arm64
 * headers (Debian's arm64 linux-libc-dev) and, for struct stat and the SYS_
 * names, the arm64 glibc headers.  This file is cross-compiled with
 * `aarch64-linux-gnu-gcc -S` only, never linked nor run: every value is a
 * compile-time constant handed to an asm statement as an "i" operand, so the
 * compiler prints it, in decimal, into the generated assembly as a comment
 * line "//@@uapi <section> <name> <value>".  gen-fixture-arm64.sh collects
 * those lines into fixtures/uapi-arm64.json.  A name that the headers lack
 * fails the build: nothing is silently left out.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/mman.h>
#include <linux/kvm.h>
#include <linux/falloc.h>
#include <linux/mempolicy.h>
#include <linux/memfd.h>

#define EMIT(sec, name, val) \
	__asm__ volatile("//@@uapi " sec " " name " %c0" : : "i"((unsigned long long)(val)))

#define IOCTL(x)   EMIT("ioctls", #x, x)
#define CONST(x)   EMIT("constants", #x, x)
#define SIZE(t)    EMIT("sizes", #t, sizeof(struct t))
#define OFF(t, f)  EMIT("offsets", #t "." #f, offsetof(struct t, f))
/* The id KVM_{GET,SET}_ONE_REG takes for a 64-bit core register: arm64 core
 * registers are addressed by their offset in struct kvm_regs, in 32-bit words. */
#define CORE64(name, field) \
	EMIT("one_reg_ids", name, KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | KVM_REG_ARM_CORE_REG(field))
#define SYSREG(name, op0, op1, crn, crm, op2) \
	EMIT("one_reg_ids", name, ARM64_SYS_REG(op0, op1, crn, crm, op2))

void values(void)
{
	/* --- ioctls: the generic ones gmemtest uses everywhere --- */
	IOCTL(KVM_GET_API_VERSION); IOCTL(KVM_CREATE_VM); IOCTL(KVM_CHECK_EXTENSION);
	IOCTL(KVM_GET_VCPU_MMAP_SIZE); IOCTL(KVM_CREATE_VCPU); IOCTL(KVM_RUN);
	IOCTL(KVM_SET_USER_MEMORY_REGION); IOCTL(KVM_SET_USER_MEMORY_REGION2);
	IOCTL(KVM_CREATE_GUEST_MEMFD);
	/* --- ioctls: a minimal arm64 vCPU (KVM_GET/SET_REGS exist in the header
	 * but arm64 KVM answers them EINVAL: registers go through ONE_REG) --- */
	IOCTL(KVM_ARM_PREFERRED_TARGET); IOCTL(KVM_ARM_VCPU_INIT);
	IOCTL(KVM_SET_ONE_REG); IOCTL(KVM_GET_ONE_REG);

	/* --- constants, the same set as the x86 fixture where they exist --- */
	CONST(KVM_API_VERSION);
	CONST(KVM_CAP_USER_MEMORY2); CONST(KVM_CAP_MEMORY_ATTRIBUTES); CONST(KVM_CAP_GUEST_MEMFD);
	CONST(KVM_CAP_VM_TYPES); CONST(KVM_CAP_GUEST_MEMFD_FLAGS);
	CONST(GUEST_MEMFD_FLAG_MMAP); CONST(GUEST_MEMFD_FLAG_INIT_SHARED);
	CONST(KVM_MEM_GUEST_MEMFD); CONST(KVM_MEM_LOG_DIRTY_PAGES); CONST(KVM_MEM_READONLY);
	CONST(KVM_MEMORY_ATTRIBUTE_PRIVATE);
	CONST(KVM_EXIT_UNKNOWN); CONST(KVM_EXIT_EXCEPTION); CONST(KVM_EXIT_IO); CONST(KVM_EXIT_HLT);
	CONST(KVM_EXIT_MMIO); CONST(KVM_EXIT_SHUTDOWN); CONST(KVM_EXIT_FAIL_ENTRY);
	CONST(KVM_EXIT_INTR); CONST(KVM_EXIT_INTERNAL_ERROR); CONST(KVM_EXIT_SYSTEM_EVENT);
	CONST(KVM_EXIT_MEMORY_FAULT); CONST(KVM_EXIT_ARM_NISV); CONST(KVM_EXIT_ARM_SEA);
	CONST(KVM_EXIT_IO_IN); CONST(KVM_EXIT_IO_OUT);
	CONST(O_RDONLY); CONST(O_RDWR); CONST(O_CLOEXEC); CONST(MFD_CLOEXEC);
	CONST(PROT_NONE); CONST(PROT_READ); CONST(PROT_WRITE); CONST(PROT_EXEC);
	CONST(MAP_SHARED); CONST(MAP_PRIVATE); CONST(MAP_FIXED); CONST(MAP_ANONYMOUS); CONST(MAP_NORESERVE);
	CONST(MADV_DONTNEED); CONST(MADV_HUGEPAGE); CONST(MADV_COLLAPSE);
	CONST(FALLOC_FL_KEEP_SIZE); CONST(FALLOC_FL_PUNCH_HOLE);
	CONST(MPOL_DEFAULT); CONST(MPOL_PREFERRED); CONST(MPOL_BIND); CONST(MPOL_INTERLEAVE);
	CONST(MPOL_F_ADDR); CONST(MPOL_F_NODE);
	/* glibc's SYS_ names and the kernel's __NR_ numbers (the generic table) */
	CONST(SYS_fstat); CONST(SYS_mbind); CONST(SYS_get_mempolicy); CONST(SYS_move_pages);
	CONST(SYS_prctl); CONST(SYS_gettid); CONST(SYS_mmap); CONST(SYS_munmap);
	CONST(SYS_madvise); CONST(SYS_timer_create); CONST(SYS_timer_settime);
	CONST(SYS_timer_delete);
	/* the system calls of the generated programs (src/native/arm64/) */
	CONST(SYS_read); CONST(SYS_write); CONST(SYS_ioctl); CONST(SYS_rt_sigaction);
	CONST(SYS_rt_sigreturn); CONST(SYS_getpid); CONST(SYS_getppid); CONST(SYS_kill);
	CONST(SYS_exit_group); CONST(SYS_close_range); CONST(SYS_pidfd_open);
	CONST(__NR_fstat); CONST(__NR_mbind); CONST(__NR_get_mempolicy); CONST(__NR_move_pages);
	CONST(__NR_prctl); CONST(__NR_ioctl); CONST(__NR_gettid); CONST(__NR_mmap);
	CONST(__NR_timer_create); CONST(__NR_rt_sigaction); CONST(__NR_exit_group);
	CONST(FIOCLEX); CONST(PR_SET_PDEATHSIG); CONST(PR_SET_DUMPABLE);
	CONST(SIGKILL); CONST(SIGBUS); CONST(SIGSEGV); CONST(SIGUSR2);
	CONST(CLOCK_MONOTONIC); CONST(SIGEV_THREAD_ID);
	/* rt_sigaction's flags: kernel-stat-arm64.c (SA_RESTORER is the kernel's only) */
	/* arm64 VM types: the low byte is the IPA size (0: the default 40 bits) */
	CONST(KVM_VM_TYPE_ARM_IPA_SIZE_MASK); CONST(KVM_VM_TYPE_ARM_PROTECTED); CONST(KVM_VM_TYPE_ARM_MASK);
	/* arm64 vCPU: ONE_REG ids, PSTATE */
	CONST(KVM_REG_ARM64); CONST(KVM_REG_SIZE_U64);
	CONST(KVM_REG_ARM_CORE); CONST(KVM_REG_ARM64_SYSREG);
	CONST(PSR_MODE_EL1h); CONST(PSR_D_BIT); CONST(PSR_A_BIT); CONST(PSR_I_BIT); CONST(PSR_F_BIT);
	/* arm64 capabilities */
	CONST(KVM_CAP_ONE_REG); CONST(KVM_CAP_ARM_VM_IPA_SIZE);

	/* --- sizes --- */
	SIZE(kvm_create_guest_memfd); SIZE(kvm_userspace_memory_region);
	SIZE(kvm_userspace_memory_region2); SIZE(kvm_run); SIZE(stat);
	SIZE(sigevent); SIZE(itimerspec);
	SIZE(kvm_vcpu_init); SIZE(kvm_one_reg);

	/* --- offsets --- */
	OFF(kvm_create_guest_memfd, size); OFF(kvm_create_guest_memfd, flags);
	OFF(kvm_create_guest_memfd, reserved);
	OFF(kvm_userspace_memory_region, slot); OFF(kvm_userspace_memory_region, flags);
	OFF(kvm_userspace_memory_region, guest_phys_addr);
	OFF(kvm_userspace_memory_region, memory_size);
	OFF(kvm_userspace_memory_region, userspace_addr);
	OFF(kvm_userspace_memory_region2, slot); OFF(kvm_userspace_memory_region2, flags);
	OFF(kvm_userspace_memory_region2, guest_phys_addr);
	OFF(kvm_userspace_memory_region2, memory_size);
	OFF(kvm_userspace_memory_region2, userspace_addr);
	OFF(kvm_userspace_memory_region2, guest_memfd_offset);
	OFF(kvm_userspace_memory_region2, guest_memfd);
	OFF(kvm_userspace_memory_region2, pad1); OFF(kvm_userspace_memory_region2, pad2);
	OFF(kvm_run, request_interrupt_window); OFF(kvm_run, immediate_exit);
	OFF(kvm_run, exit_reason); OFF(kvm_run, io.direction); OFF(kvm_run, io.size);
	OFF(kvm_run, io.port); OFF(kvm_run, io.count); OFF(kvm_run, io.data_offset);
	OFF(kvm_run, mmio.phys_addr); OFF(kvm_run, mmio.data); OFF(kvm_run, mmio.len);
	OFF(kvm_run, mmio.is_write);
	OFF(kvm_run, fail_entry.hardware_entry_failure_reason); OFF(kvm_run, fail_entry.cpu);
	OFF(kvm_run, internal.suberror); OFF(kvm_run, internal.ndata); OFF(kvm_run, internal.data);
	OFF(kvm_run, memory_fault.flags); OFF(kvm_run, memory_fault.gpa);
	OFF(kvm_run, memory_fault.size);
	OFF(kvm_run, arm_nisv.esr_iss); OFF(kvm_run, arm_nisv.fault_ipa);
	OFF(stat, st_dev); OFF(stat, st_ino); OFF(stat, st_mode); OFF(stat, st_nlink);
	OFF(stat, st_uid); OFF(stat, st_gid); OFF(stat, st_rdev);
	OFF(stat, st_size); OFF(stat, st_blksize); OFF(stat, st_blocks);
	OFF(kvm_vcpu_init, target); OFF(kvm_vcpu_init, features);
	OFF(kvm_one_reg, id); OFF(kvm_one_reg, addr);
	OFF(sigevent, sigev_value); OFF(sigevent, sigev_signo); OFF(sigevent, sigev_notify);
	/* glibc 2.36 names the thread id of SIGEV_THREAD_ID only as _sigev_un._tid */
	EMIT("offsets", "sigevent.sigev_notify_thread_id", offsetof(struct sigevent, _sigev_un._tid));
	OFF(itimerspec, it_interval.tv_sec); OFF(itimerspec, it_interval.tv_nsec);
	OFF(itimerspec, it_value.tv_sec); OFF(itimerspec, it_value.tv_nsec);
	/* the head of siginfo the access helper's FAULT message carries */
	EMIT("offsets", "siginfo.si_signo", offsetof(siginfo_t, si_signo));
	EMIT("offsets", "siginfo.si_errno", offsetof(siginfo_t, si_errno));
	EMIT("offsets", "siginfo.si_code", offsetof(siginfo_t, si_code));
	EMIT("offsets", "siginfo.si_addr", offsetof(siginfo_t, si_addr));
	OFF(kvm_regs, regs.regs); OFF(kvm_regs, regs.sp); OFF(kvm_regs, regs.pc);
	OFF(kvm_regs, regs.pstate); OFF(kvm_regs, sp_el1); OFF(kvm_regs, elr_el1);

	/* --- KVM_{GET,SET}_ONE_REG ids: core registers x0..x30, sp, pc, pstate --- */
#define X(n) CORE64("x" #n, regs.regs[n])
	X(0); X(1); X(2); X(3); X(4); X(5); X(6); X(7); X(8); X(9); X(10);
	X(11); X(12); X(13); X(14); X(15); X(16); X(17); X(18); X(19); X(20);
	X(21); X(22); X(23); X(24); X(25); X(26); X(27); X(28); X(29); X(30);
#undef X
	CORE64("sp", regs.sp); CORE64("pc", regs.pc); CORE64("pstate", regs.pstate);
	CORE64("sp_el1", sp_el1); CORE64("elr_el1", elr_el1);
	/* system registers a guest with the MMU on would need (op0, op1, CRn, CRm, op2) */
	SYSREG("SCTLR_EL1", 3, 0, 1, 0, 0); SYSREG("CPACR_EL1", 3, 0, 1, 0, 2);
	SYSREG("TTBR0_EL1", 3, 0, 2, 0, 0); SYSREG("TCR_EL1", 3, 0, 2, 0, 2);
	SYSREG("MAIR_EL1", 3, 0, 10, 2, 0); SYSREG("VBAR_EL1", 3, 0, 12, 0, 0);
	SYSREG("ID_AA64MMFR0_EL1", 3, 0, 0, 7, 0);
}
