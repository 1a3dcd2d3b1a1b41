// SPDX-License-Identifier: GPL-2.0-only
/*
 * gmem_baseline: the system calls of one whole gmemtest run, made from C, as a floor
 * under gmemtest's own timings in bench/run.mjs. It is a baseline, not a test: results
 * that differ from what gmemtest's cases expect are only counted ("unexpected").
 *
 * It follows gmemtest's src/ as it is now:
 *   src/cli/open-device.ts  open /dev/kvm, KVM_GET_API_VERSION, KVM_CHECK_EXTENSION(GUEST_MEMFD)
 *   src/kvm/host.ts         getpagesize, hpage_pmd_size, node/online
 *   src/kvm/caps.ts         the system fd's caps; a VM per advertised type asked two caps
 *   src/cases/matrix.ts     per VM type (one VM): guest_memfd_flags, then per flag set
 *                           (every subset of the supported bits, in numeric order) the
 *                           cases the MMAP / INIT_SHARED bits select
 * and where a case's memory accesses are made by an access helper (a process of its own
 * that a SIGBUS may kill: one per case, and one per faulting access), this makes them in
 * a fork()ed child, the same accesses in the same order, and reaps it with waitpid().
 * Every guest_memfd made gets FD_CLOEXEC (FIOCLEX), as Vm.tryCreateGuestMemfd does.
 * Not here: guest_memfd_guest (a vCPU guest), and gmemtest's own overheads (the per-case
 * leak check, the helper's pipes and protocol).
 *
 * Usage:
 *   gmem_baseline                 the whole run once; one JSON line with ns timings
 *   gmem_baseline --ffi-loop N    N failing KVM_CREATE_GUEST_MEMFD (size 1, EINVAL); ns/call
 *
 * The build host's <linux/kvm.h> may predate guest_memfd, so the few numbers needed are
 * spelled out here (x86_64; gmemtest checks the same values against the kernel's headers
 * in test/unit/uapi.test.ts).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct gmem_create_arg {   /* struct kvm_create_guest_memfd */
	uint64_t size;
	uint64_t flags;
	uint64_t reserved[6];
};

#define KVMIO_TYPE            0xAE
#define REQ_GET_API_VERSION   _IO(KVMIO_TYPE, 0x00)
#define REQ_CREATE_VM         _IO(KVMIO_TYPE, 0x01)
#define REQ_CHECK_EXTENSION   _IO(KVMIO_TYPE, 0x03)
#define REQ_CREATE_GMEM       _IOWR(KVMIO_TYPE, 0xd4, struct gmem_create_arg)

#define CAP_GUEST_MEMFD       234
#define CAP_VM_TYPES          235
#define CAP_GUEST_MEMFD_FLAGS 244
#define GMEM_MMAP             (1ull << 0)
#define GMEM_INIT_SHARED      (1ull << 1)
#define N_KNOWN_VM_TYPES      6     /* default, sw_protected, sev, sev_es, snp, tdx */

#define FL_KEEP  FALLOC_FL_KEEP_SIZE
#define FL_PUNCH (FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE)

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif
#define POLICY_DEFAULT    0
#define POLICY_BIND       2
#define POLICY_INTERLEAVE 3
#define POLICY_F_ADDR     2

static long page;
static long pmd_size;
static int numa_nodes = 1;
static unsigned long long n_unexpected;
static unsigned long long n_children;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Counts a result gmemtest's case would not accept. */
static void want(int cond)
{
	if (!cond)
		n_unexpected++;
}

static int gmem_create(int vm, uint64_t size, uint64_t flags)
{
	struct gmem_create_arg a = { .size = size, .flags = flags };
	int fd = ioctl(vm, REQ_CREATE_GMEM, &a);

	if (fd >= 0)
		ioctl(fd, FIOCLEX, 0);
	return fd;
}

static void drop(int fd)
{
	if (fd >= 0)
		close(fd);
}

static long read_number(const char *path)
{
	char buf[64] = { 0 };
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	(void)!read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return atol(buf);
}

/* Counts the ids of a sysfs cpulist-style file ("0-1,3"). */
static int count_list(const char *path)
{
	char buf[256] = { 0 }, *p = buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC), n = 0;

	if (fd < 0)
		return 1;
	(void)!read(fd, buf, sizeof(buf) - 1);
	close(fd);
	while (*p >= '0' && *p <= '9') {
		long a = strtol(p, &p, 10), b = a;

		if (*p == '-')
			b = strtol(p + 1, &p, 10);
		n += (int)(b - a + 1);
		if (*p != ',')
			break;
		p++;
	}
	return n > 0 ? n : 1;
}

/* --- the helper's part: accesses in a child process ------------------------------- */

/* Runs fn(fd, arg) in a child; returns its wait status. The child's exit code is its
 * count of unexpected results. */
static int in_child(void (*fn)(int, long), int fd, long arg)
{
	int status = 0;
	pid_t pid;

	n_children++;
	pid = fork();
	if (pid == 0) {
		n_unexpected = 0;
		fn(fd, arg);
		_exit(n_unexpected > 100 ? 100 : (int)n_unexpected);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

static void child_ok(int status)
{
	want(status >= 0 && WIFEXITED(status));
	if (status >= 0 && WIFEXITED(status))
		n_unexpected += WEXITSTATUS(status);
}

static void child_sigbus(int status)
{
	want(status >= 0 && WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS);
}

static char *map_shared(int fd, long len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	want(p != MAP_FAILED);
	return p == MAP_FAILED ? NULL : p;
}

static void all_bytes(const volatile char *p, long len, char val)
{
	for (long i = 0; i < len; i++)
		if (p[i] != val) {
			n_unexpected++;
			return;
		}
}

/* fault_sigbus's children: arg = map size, the accessible size in the high half. */
static void fault_memset(int fd, long arg)
{
	long map = arg & 0xffffffff;
	char *m = map_shared(fd, map);

	if (m)
		memset(m, 0xaa, map);          /* SIGBUS past the accessible part */
}

static void fault_read(int fd, long arg)
{
	long map = arg & 0xffffffff, acc = arg >> 32;
	char *m = map_shared(fd, map);

	if (m)
		(void)*(volatile char *)(m + acc);   /* SIGBUS */
}

static void fault_readback(int fd, long arg)
{
	long map = arg & 0xffffffff, acc = arg >> 32;
	char *m = map_shared(fd, map);

	if (!m)
		return;
	all_bytes(m, acc, (char)0xaa);
	want(munmap(m, map) == 0);
}

static void fault_sigbus(int fd, long accessible, long map)
{
	long arg = (accessible << 32) | map;

	child_sigbus(in_child(fault_memset, fd, arg));
	child_sigbus(in_child(fault_read, fd, arg));
	child_ok(in_child(fault_readback, fd, arg));
}

static void mmap_supported_child(int fd, long total)
{
	char *m = map_shared(fd, total);

	if (!m)
		return;
	memset(m, 0xaa, total);
	all_bytes(m, total, (char)0xaa);
	/* the parent's PUNCH_HOLE is made here: same file, same order */
	want(fallocate(fd, FL_PUNCH, 0, page) == 0);
	all_bytes(m, page, 0);
	all_bytes(m + page, total - page, (char)0xaa);
	memset(m, 0xaa, page);
	all_bytes(m, total, (char)0xaa);
	want(munmap(m, total) == 0);
}

static long sys_mbind(void *addr, long len, int mode, const unsigned long *mask, long maxnode)
{
	return syscall(SYS_mbind, addr, len, mode, mask, maxnode, 0);
}

static void mbind_child(int fd, long total)
{
	unsigned long node0 = 1, mask = 0;
	int policy = -1;
	char *m = map_shared(fd, total);

	if (!m)
		return;
	want(sys_mbind(m, page * 2, POLICY_INTERLEAVE, &node0, 64) == 0);
	want(syscall(SYS_get_mempolicy, &policy, &mask, 64, m, POLICY_F_ADDR) == 0 && policy == POLICY_INTERLEAVE);
	want(sys_mbind(m + page * 2, page * 2, POLICY_BIND, &node0, 64) == 0);
	want(syscall(SYS_get_mempolicy, &policy, &mask, 64, m + page * 2, POLICY_F_ADDR) == 0 && policy == POLICY_BIND);
	want(sys_mbind(m, total, POLICY_DEFAULT, NULL, 0) == 0);
	want(syscall(SYS_get_mempolicy, &policy, &mask, 64, m, POLICY_F_ADDR) == 0 && policy == POLICY_DEFAULT);
	want(sys_mbind(m, page, 999, &node0, 64) == -1 && errno == EINVAL);
	want(munmap(m, total) == 0);
}

static void expect_nodes(char *m, const int *nodes)
{
	void *pages[4];
	int status[4];

	for (int i = 0; i < 4; i++)
		pages[i] = m + page * i;
	want(syscall(SYS_move_pages, 0, 4, pages, NULL, status, 0) == 0);
	for (int i = 0; i < 4; i++)
		want(status[i] == nodes[i]);
}

static void numa_child(int fd, long total)
{
	unsigned long node0 = 1, node1 = 2;
	static const int first[4] = { 1, 1, 0, 0 }, second[4] = { 0, 0, 1, 1 };
	char *m = map_shared(fd, total);

	if (!m)
		return;
	memset(m, 0xaa, page);
	want(sys_mbind(m, page, POLICY_BIND, &node0, 8) == 0);
	want(fallocate(fd, FL_PUNCH, 0, page) == 0);
	want(sys_mbind(m, page * 2, POLICY_BIND, &node1, 8) == 0);
	want(sys_mbind(m + page * 2, page * 2, POLICY_BIND, &node0, 8) == 0);
	memset(m, 0xaa, total);
	expect_nodes(m, first);
	want(fallocate(fd, FL_PUNCH, 0, total) == 0);
	want(sys_mbind(m, page * 2, POLICY_BIND, &node0, 8) == 0);
	want(sys_mbind(m + page * 2, page * 2, POLICY_BIND, &node1, 8) == 0);
	memset(m, 0xaa, total);
	expect_nodes(m, second);
	want(munmap(m, total) == 0);
}

static void collapse_child(int fd, long pmd)
{
	char *reserved = mmap(NULL, pmd * 2, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *aligned, *m;
	volatile char sum = 0;

	want(reserved != MAP_FAILED);
	if (reserved == MAP_FAILED)
		return;
	aligned = (char *)(((uintptr_t)reserved + pmd - 1) / pmd * pmd);
	m = mmap(aligned, pmd, PROT_READ | PROT_WRITE, MAP_FIXED | MAP_SHARED, fd, 0);
	want(m == aligned);
	if (m != aligned)
		return;
	for (long off = 0; off < pmd; off += page)
		sum += ((volatile char *)m)[off];
	want(madvise(m, pmd, MADV_HUGEPAGE) == 0);
	want(madvise(m, pmd, MADV_COLLAPSE) == -1 && errno == EINVAL);
	want(madvise(m, pmd, MADV_DONTNEED) == 0);
	sum += ((volatile char *)m)[0];
	want(munmap(reserved, pmd * 2) == 0);
}

/* --- the cases, in src/cases/'s order -------------------------------------------- */

static void guest_memfd_flags(int vm)
{
	uint64_t valid = (uint64_t)ioctl(vm, REQ_CHECK_EXTENSION, CAP_GUEST_MEMFD_FLAGS);

	for (int bit = 0; bit < 64; bit++) {
		uint64_t flag = 1ull << bit;
		int fd = gmem_create(vm, page, flag);
		int err = errno;

		drop(fd);
		want((flag & valid) ? fd >= 0 : (fd < 0 && err == EINVAL));
	}
}

static void create_multiple(int vm)
{
	struct stat s1, s2, again;
	int a = gmem_create(vm, page, 0), b;

	want(a >= 0);
	want(fstat(a, &s1) == 0 && s1.st_size == page);
	b = gmem_create(vm, 2 * page, 0);
	want(b >= 0);
	want(fstat(b, &s2) == 0 && s2.st_size == 2 * page);
	want(fstat(a, &again) == 0 && again.st_size == page && again.st_ino != s2.st_ino);
	drop(b);
	drop(a);
}

static void invalid_sizes(int vm, uint64_t flags)
{
	for (long size = 1; size < page; size++) {
		int fd = gmem_create(vm, size, flags);
		int err = errno;

		drop(fd);
		want(fd < 0 && err == EINVAL);
		if (fd >= 0 || err != EINVAL)
			break;
	}
}

static void file_read_write(int fd, long total, char *scratch)
{
	(void)total;
	want(read(fd, scratch, 64) < 0);
	want(write(fd, scratch, 64) < 0);
	want(pread(fd, scratch, 64, 0) < 0);
	want(pwrite(fd, scratch, 64, 0) < 0);
}

static void mmap_not_supported(int fd, long total)
{
	long lens[2] = { page, total };

	for (int i = 0; i < 2; i++) {
		void *p = mmap(NULL, lens[i], PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

		want(p == MAP_FAILED);
		if (p != MAP_FAILED)
			munmap(p, lens[i]);
	}
}

static void mmap_cow(int fd, long total)
{
	void *p = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);

	want(p == MAP_FAILED);
	if (p != MAP_FAILED)
		munmap(p, total);
}

static void file_size(int fd, long total)
{
	struct stat st;

	want(fstat(fd, &st) == 0 && st.st_size == total && st.st_blksize == page);
}

static void do_fallocate(int fd, long total)
{
	want(fallocate(fd, FL_KEEP, 0, total) == 0);
	want(fallocate(fd, FL_PUNCH, page - 1, page) != 0);
	want(fallocate(fd, FL_KEEP, total, page) != 0);
	want(fallocate(fd, FL_KEEP, total + page, page) != 0);
	want(fallocate(fd, FL_PUNCH, total, page) == 0);
	want(fallocate(fd, FL_PUNCH, total + page, page) == 0);
	want(fallocate(fd, FL_PUNCH, page, page - 1) != 0);
	want(fallocate(fd, FL_PUNCH, page, page) == 0);
	want(fallocate(fd, FL_KEEP, page, page) == 0);
}

static void invalid_punch_hole(int fd)
{
	const long r[][2] = {
		{ 0, 1 }, { 0, page - 1 }, { 0, page + 1 },
		{ 1, 1 }, { 1, page - 1 }, { 1, page }, { 1, page + 1 },
		{ page, 1 }, { page, page - 1 }, { page, page + 1 },
	};

	for (unsigned i = 0; i < sizeof(r) / sizeof(r[0]); i++)
		want(fallocate(fd, FL_PUNCH, r[i][0], r[i][1]) == -1 && errno == EINVAL);
}

enum gmem_case {
	RW, MMAP_SUPPORTED, FAULT_OVERFLOW, NUMA, COLLAPSE, FAULT_PRIVATE, COW, MBIND,
	MMAP_NOT_SUPPORTED, SIZE, FALLOC, PUNCH,
};

/* upstream's __gmem_test(): a fresh guest_memfd with the set's flags, closed after. */
static void gmem_case(int vm, uint64_t flags, enum gmem_case which, char *scratch)
{
	long total = which == COLLAPSE ? pmd_size : 4 * page;
	int fd;

	/* the cases that skip on this host skip before their guest_memfd */
	if ((which == NUMA || which == MBIND) && numa_nodes < 2)
		return;
	fd = gmem_create(vm, total, flags);
	want(fd >= 0);
	if (fd < 0)
		return;
	switch (which) {
	case RW:                 file_read_write(fd, total, scratch); break;
	case MMAP_SUPPORTED:     child_ok(in_child(mmap_supported_child, fd, total)); break;
	case FAULT_OVERFLOW:     fault_sigbus(fd, total, total * 4); break;
	case NUMA:               child_ok(in_child(numa_child, fd, total)); break;
	case COLLAPSE:           child_ok(in_child(collapse_child, fd, total)); break;
	case FAULT_PRIVATE:      fault_sigbus(fd, 0, total); break;
	case COW:                mmap_cow(fd, total); break;
	case MBIND:              child_ok(in_child(mbind_child, fd, total)); break;
	case MMAP_NOT_SUPPORTED: mmap_not_supported(fd, total); break;
	case SIZE:               file_size(fd, total); break;
	case FALLOC:             do_fallocate(fd, total); break;
	case PUNCH:              invalid_punch_hole(fd); break;
	}
	drop(fd);
}

/* src/cases/matrix.ts flagSetCases() */
static void flag_set(int vm, uint64_t flags, char *scratch)
{
	create_multiple(vm);
	invalid_sizes(vm, flags);
	gmem_case(vm, flags, RW, scratch);
	if (flags & GMEM_MMAP) {
		if (flags & GMEM_INIT_SHARED) {
			gmem_case(vm, flags, MMAP_SUPPORTED, scratch);
			gmem_case(vm, flags, FAULT_OVERFLOW, scratch);
			gmem_case(vm, flags, NUMA, scratch);
			if (pmd_size > 0)
				gmem_case(vm, flags, COLLAPSE, scratch);
		} else {
			gmem_case(vm, flags, FAULT_PRIVATE, scratch);
		}
		gmem_case(vm, flags, COW, scratch);
		gmem_case(vm, flags, MBIND, scratch);
	} else {
		gmem_case(vm, flags, MMAP_NOT_SUPPORTED, scratch);
	}
	gmem_case(vm, flags, SIZE, scratch);
	gmem_case(vm, flags, FALLOC, scratch);
	gmem_case(vm, flags, PUNCH, scratch);
}

/* Every subset of the supported bits (bits 0..30), in ascending numeric order. */
static int subsets(uint64_t valid, uint64_t *out, int max)
{
	uint64_t bits[31];
	int nbits = 0, n = 0;

	for (int b = 0; b < 31; b++)
		if (valid & (1ull << b))
			bits[nbits++] = 1ull << b;
	for (uint64_t m = 0; m < (1ull << nbits) && n < max; m++) {
		uint64_t set = 0;

		for (int i = 0; i < nbits; i++)
			if (m & (1ull << i))
				set |= bits[i];
		out[n++] = set;
	}
	for (int i = 1; i < n; i++)            /* insertion sort: n is tiny */
		for (int j = i; j > 0 && out[j - 1] > out[j]; j--) {
			uint64_t t = out[j];

			out[j] = out[j - 1];
			out[j - 1] = t;
		}
	return n;
}

static int whole_run(void)
{
	uint64_t t0 = now_ns(), t_probe, t_end;
	uint64_t flags_of[32] = { 0 };
	unsigned vm_types;
	int kvm, ntypes = 0, types[32];
	char *scratch;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		printf("{\"skipped\":\"cannot open /dev/kvm: %s\"}\n", strerror(errno));
		return 4;
	}
	want(ioctl(kvm, REQ_GET_API_VERSION, 0) == 12);
	want(ioctl(kvm, REQ_CHECK_EXTENSION, CAP_GUEST_MEMFD) > 0);

	page = getpagesize();
	pmd_size = read_number("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size");
	numa_nodes = count_list("/sys/devices/system/node/online");
	vm_types = (unsigned)ioctl(kvm, REQ_CHECK_EXTENSION, CAP_VM_TYPES);
	ioctl(kvm, REQ_GET_API_VERSION, 0);
	ioctl(kvm, REQ_CHECK_EXTENSION, CAP_GUEST_MEMFD);
	ioctl(kvm, REQ_CHECK_EXTENSION, CAP_GUEST_MEMFD_FLAGS);
	if (vm_types == 0)
		vm_types = 1;                  /* the default VM only */
	for (int t = 0; t < 32; t++) {
		int vm;

		if (!(vm_types & (1u << t)))
			continue;
		vm = ioctl(kvm, REQ_CREATE_VM, t);
		if (vm < 0)
			continue;
		ioctl(vm, REQ_CHECK_EXTENSION, CAP_GUEST_MEMFD);
		flags_of[ntypes] = (uint64_t)ioctl(vm, REQ_CHECK_EXTENSION, CAP_GUEST_MEMFD_FLAGS);
		types[ntypes++] = t;
		close(vm);
	}
	if (numa_nodes >= 2)               /* requireMultiNode's get_mempolicy() */
		syscall(SYS_get_mempolicy, NULL, NULL, 0, NULL, 0);
	scratch = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	t_probe = now_ns();

	for (int i = 0; i < ntypes; i++) {
		uint64_t sets[64];
		int nsets = subsets(flags_of[i], sets, 64);
		int vm = ioctl(kvm, REQ_CREATE_VM, types[i]);

		want(vm >= 0);
		if (vm < 0)
			continue;
		guest_memfd_flags(vm);
		for (int s = 0; s < nsets; s++)
			flag_set(vm, sets[s], scratch);
		close(vm);
	}
	close(kvm);
	t_end = now_ns();

	printf("{\"mode\":\"suite\",\"page_size\":%ld,\"pmd_size\":%ld,\"numa_nodes\":%d,\"vm_types\":%d,"
	       "\"children\":%llu,\"unexpected\":%llu,\"probe_ns\":%llu,\"cases_ns\":%llu,\"work_ns\":%llu}\n",
	       page, pmd_size, numa_nodes, ntypes, n_children, n_unexpected,
	       (unsigned long long)(t_probe - t0), (unsigned long long)(t_end - t_probe),
	       (unsigned long long)(t_end - t0));
	return n_unexpected ? 1 : 0;
}

/* The per-call floor: a KVM_CREATE_GUEST_MEMFD the kernel refuses (size 1). */
static int ffi_loop(long n)
{
	struct gmem_create_arg a = { .size = 1, .flags = 0 };
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	int vm, fails = 0;
	uint64_t t0, t1;

	if (kvm < 0) {
		printf("{\"skipped\":\"cannot open /dev/kvm: %s\"}\n", strerror(errno));
		return 4;
	}
	vm = ioctl(kvm, REQ_CREATE_VM, 0);
	if (vm < 0) {
		printf("{\"skipped\":\"KVM_CREATE_VM: %s\"}\n", strerror(errno));
		return 4;
	}
	for (long i = 0; i < n / 10; i++)      /* warm-up */
		(void)ioctl(vm, REQ_CREATE_GMEM, &a);
	t0 = now_ns();
	for (long i = 0; i < n; i++)
		if (ioctl(vm, REQ_CREATE_GMEM, &a) == -1 && errno == EINVAL)
			fails++;
	t1 = now_ns();
	printf("{\"mode\":\"ffi-loop\",\"calls\":%ld,\"einval\":%d,\"ns_per_call\":%.1f}\n",
	       n, fails, (double)(t1 - t0) / (double)n);
	close(vm);
	close(kvm);
	return fails == n ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--ffi-loop") == 0)
		return ffi_loop(atol(argv[2]));
	if (argc != 1) {
		fprintf(stderr, "usage: %s [--ffi-loop N]\n", argv[0]);
		return 2;
	}
	return whole_run();
}
