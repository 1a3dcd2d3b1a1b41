/*
 * The kernel's own struct stat for arm64 (asm/stat.h: the generic layout),
 * which the fstat system call fills in; compiled apart from
 * uapi-values-arm64.c because glibc's <sys/stat.h> defines a struct of the
 * same name.  Emits its values the same way ("//@@uapi" comment lines).
 * Also the flags rt_sigaction takes, from the kernel's asm/signal.h (glibc's
 * <signal.h> has no SA_RESTORER, and clashes with the kernel's header).
 */
#include <stddef.h>
#include <asm/stat.h>
#include <asm/signal.h>

#define EMIT(sec, name, val) \
	__asm__ volatile("//@@uapi " sec " " name " %c0" : : "i"((unsigned long long)(val)))
#define SIZE(t)    EMIT("sizes", "kernel_" #t, sizeof(struct t))
#define OFF(t, f)  EMIT("offsets", "kernel_" #t "." #f, offsetof(struct t, f))

void values(void)
{
	SIZE(stat);
	OFF(stat, st_dev); OFF(stat, st_ino); OFF(stat, st_mode); OFF(stat, st_nlink);
	OFF(stat, st_uid); OFF(stat, st_gid); OFF(stat, st_rdev);
	OFF(stat, st_size); OFF(stat, st_blksize); OFF(stat, st_blocks);
	EMIT("constants", "SA_SIGINFO", SA_SIGINFO); EMIT("constants", "SA_RESTORER", SA_RESTORER);
	EMIT("constants", "SA_NODEFER", SA_NODEFER); EMIT("constants", "SA_RESETHAND", SA_RESETHAND);
}
