/*
 * Prints, as JSON, the uapi numbers gmemtest hard-codes in src/kvm/uapi/,
 * src/kvm/structs.ts and src/kvm/arch/x86_64/uapi.ts, taken from the kernel's own headers. Run by gen-fixture.sh;
 * the output is committed as fixtures/uapi-x86_64.json and checked by test/unit.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stddef.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <signal.h>
#include <sys/stat.h>
#include <linux/mman.h>	/* kernel values, incl. MADV_COLLAPSE (newer than glibc 2.36) */
#include <sys/syscall.h>
#include <linux/kvm.h>
#include <linux/falloc.h>
#include <linux/mempolicy.h>
#include <linux/memfd.h>
#include <time.h>

static int first = 1;
static void item(const char *name, unsigned long long v)
{
	printf("%s\n    \"%s\": %llu", first ? "" : ",", name, v);
	first = 0;
}
static void section(const char *name)
{
	printf("%s\n  \"%s\": {", first ? "" : ",", name);
	first = 1;
}
static void end(void) { printf("\n  }"); first = 0; }

#define C(x) item(#x, (unsigned long long)(x))
#define SZ(t) item(#t, sizeof(struct t))
#define OFF(t, f) item(#t "." #f, offsetof(struct t, f))

int main(void)
{
	printf("{\n  \"header_version\": \"%s\",\n  \"arch\": \"x86_64\"", HEADER_VERSION);
	first = 0;

	section("ioctls");
	C(KVM_GET_API_VERSION); C(KVM_CREATE_VM); C(KVM_CHECK_EXTENSION);
	C(KVM_GET_VCPU_MMAP_SIZE); C(KVM_CREATE_VCPU); C(KVM_RUN);
	C(KVM_GET_REGS); C(KVM_SET_REGS); C(KVM_GET_SREGS); C(KVM_SET_SREGS);
	C(KVM_SET_USER_MEMORY_REGION); C(KVM_SET_USER_MEMORY_REGION2);
	C(KVM_CREATE_GUEST_MEMFD); C(KVM_GET_SUPPORTED_CPUID); C(KVM_SET_CPUID2);
	end();

	section("constants");
	C(KVM_API_VERSION);
	C(KVM_CAP_USER_MEMORY2); C(KVM_CAP_MEMORY_ATTRIBUTES); C(KVM_CAP_GUEST_MEMFD);
	C(KVM_CAP_VM_TYPES); C(KVM_CAP_GUEST_MEMFD_FLAGS);
	C(GUEST_MEMFD_FLAG_MMAP); C(GUEST_MEMFD_FLAG_INIT_SHARED);
	C(KVM_MEM_GUEST_MEMFD); C(KVM_MEM_LOG_DIRTY_PAGES); C(KVM_MEM_READONLY);
	C(KVM_MEMORY_ATTRIBUTE_PRIVATE);
	C(KVM_X86_DEFAULT_VM); C(KVM_X86_SW_PROTECTED_VM); C(KVM_X86_SEV_VM);
	C(KVM_X86_SEV_ES_VM); C(KVM_X86_SNP_VM); C(KVM_X86_TDX_VM);
	C(KVM_EXIT_UNKNOWN); C(KVM_EXIT_EXCEPTION); C(KVM_EXIT_IO); C(KVM_EXIT_HLT);
	C(KVM_EXIT_MMIO); C(KVM_EXIT_SHUTDOWN); C(KVM_EXIT_FAIL_ENTRY);
	C(KVM_EXIT_INTR); C(KVM_EXIT_INTERNAL_ERROR); C(KVM_EXIT_SYSTEM_EVENT);
	C(KVM_EXIT_MEMORY_FAULT);
	C(KVM_EXIT_IO_IN); C(KVM_EXIT_IO_OUT);
	C(O_RDONLY); C(O_RDWR); C(O_CLOEXEC); C(MFD_CLOEXEC);
	C(PROT_NONE); C(PROT_READ); C(PROT_WRITE); C(PROT_EXEC);
	C(MAP_SHARED); C(MAP_PRIVATE); C(MAP_FIXED); C(MAP_ANONYMOUS); C(MAP_NORESERVE);
	C(MADV_DONTNEED); C(MADV_HUGEPAGE); C(MADV_COLLAPSE);
	C(FALLOC_FL_KEEP_SIZE); C(FALLOC_FL_PUNCH_HOLE);
	C(MPOL_DEFAULT); C(MPOL_PREFERRED); C(MPOL_BIND); C(MPOL_INTERLEAVE);
	C(MPOL_F_ADDR); C(MPOL_F_NODE);
	C(SYS_fstat); C(SYS_mbind); C(SYS_get_mempolicy); C(SYS_move_pages);
	C(FIOCLEX); C(SYS_prctl); C(PR_SET_PDEATHSIG); C(SIGKILL); C(SIGUSR2);
	C(SYS_gettid); C(SYS_mmap); C(SYS_munmap); C(SYS_madvise); C(SYS_timer_create); C(SYS_timer_settime); C(SYS_timer_delete);
	C(CLOCK_MONOTONIC); C(SIGEV_THREAD_ID);
	end();

	section("sizes");
	SZ(kvm_create_guest_memfd); SZ(kvm_userspace_memory_region);
	SZ(kvm_userspace_memory_region2); SZ(kvm_regs); SZ(kvm_sregs);
	SZ(kvm_segment); SZ(kvm_dtable); SZ(kvm_run); SZ(stat);
	SZ(kvm_cpuid2); SZ(kvm_cpuid_entry2); SZ(sigevent); SZ(itimerspec);
	end();

	section("offsets");
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
	OFF(kvm_regs, rax); OFF(kvm_regs, rbx); OFF(kvm_regs, rcx); OFF(kvm_regs, rdx);
	OFF(kvm_regs, rsi); OFF(kvm_regs, rdi); OFF(kvm_regs, rsp); OFF(kvm_regs, rbp);
	OFF(kvm_regs, r8); OFF(kvm_regs, r15); OFF(kvm_regs, rip); OFF(kvm_regs, rflags);
	OFF(kvm_sregs, cs); OFF(kvm_sregs, ds); OFF(kvm_sregs, es); OFF(kvm_sregs, fs);
	OFF(kvm_sregs, gs); OFF(kvm_sregs, ss); OFF(kvm_sregs, tr); OFF(kvm_sregs, ldt);
	OFF(kvm_sregs, gdt); OFF(kvm_sregs, idt); OFF(kvm_sregs, cr0); OFF(kvm_sregs, cr2);
	OFF(kvm_sregs, cr3); OFF(kvm_sregs, cr4); OFF(kvm_sregs, cr8); OFF(kvm_sregs, efer);
	OFF(kvm_sregs, apic_base); OFF(kvm_sregs, interrupt_bitmap);
	OFF(kvm_segment, base); OFF(kvm_segment, limit); OFF(kvm_segment, selector);
	OFF(kvm_segment, type); OFF(kvm_segment, present); OFF(kvm_segment, dpl);
	OFF(kvm_segment, db); OFF(kvm_segment, s); OFF(kvm_segment, l);
	OFF(kvm_segment, g); OFF(kvm_segment, avl); OFF(kvm_segment, unusable);
	OFF(kvm_dtable, base); OFF(kvm_dtable, limit);
	OFF(kvm_run, request_interrupt_window); OFF(kvm_run, immediate_exit);
	OFF(kvm_run, exit_reason); OFF(kvm_run, io.direction); OFF(kvm_run, io.size);
	OFF(kvm_run, io.port); OFF(kvm_run, io.count); OFF(kvm_run, io.data_offset);
	OFF(kvm_run, mmio.phys_addr); OFF(kvm_run, mmio.data); OFF(kvm_run, mmio.len);
	OFF(kvm_run, mmio.is_write);
	OFF(kvm_run, fail_entry.hardware_entry_failure_reason); OFF(kvm_run, fail_entry.cpu);
	OFF(kvm_run, internal.suberror); OFF(kvm_run, internal.ndata); OFF(kvm_run, internal.data);
	OFF(kvm_run, memory_fault.flags); OFF(kvm_run, memory_fault.gpa);
	OFF(kvm_run, memory_fault.size);
	OFF(kvm_cpuid2, nent); OFF(kvm_cpuid2, entries);
	OFF(sigevent, sigev_value); OFF(sigevent, sigev_signo); OFF(sigevent, sigev_notify);
	/* sigev_notify_thread_id: glibc 2.36 names the field only _sigev_un._tid */
	item("sigevent.sigev_notify_thread_id", offsetof(struct sigevent, _sigev_un._tid));
	OFF(itimerspec, it_interval.tv_sec); OFF(itimerspec, it_interval.tv_nsec);
	OFF(itimerspec, it_value.tv_sec); OFF(itimerspec, it_value.tv_nsec);
	OFF(stat, st_dev); OFF(stat, st_ino); OFF(stat, st_nlink); OFF(stat, st_mode);
	OFF(stat, st_size); OFF(stat, st_blksize); OFF(stat, st_blocks);
	end();
	printf("\n}\n");
	return 0;
}
