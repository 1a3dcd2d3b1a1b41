// SPDX-License-Identifier: GPL-2.0-only
/*
 * gmem_baseline: the syscalls gmemtest makes for one whole run, issued from C, so
 * bench/run.mjs can put a floor under gmemtest's own timings. It is a baseline, not a
 * test: it counts results that differ from what the TypeScript cases expect and
 * prints that count, but it reports nothing else about conformance.
 *
 * The sequence follows gmemtest's src/ (open-device.ts, caps.ts, tests/matrix.ts,
 * tests/create.ts, tests/file-ops.ts, tests/mmap.ts) call for call:
 *   open /dev/kvm; KVM_GET_API_VERSION; KVM_CHECK_EXTENSION(GUEST_MEMFD)
 *   probe: page size, THP and NUMA sysfs reads, system caps, and for every
 *          advertised VM type a throw-away VM asked for its two guest_memfd caps
 *   per testable VM type, on one VM:
 *     guest_memfd_flags: the flags cap, then one create per bit 0..63
 *     per flag set (every subset of the supported flags, in numeric order):
 *       create_guest_memfd_multiple, create_guest_memfd_invalid_sizes,
 *       file_read_write, [mmap_not_supported without MMAP], file_size,
 *       fallocate, invalid_punch_hole
 *
 * Usage:
 *   gmem_baseline                 run the sequence once; print JSON with ns timings
 *   gmem_baseline --ffi-loop N    N failing KVM_CREATE_GUEST_MEMFD (size 1); ns/call
 *
 * The build host's <linux/kvm.h> may predate guest_memfd, so the few numbers needed
 * are spelled out here (x86_64 values; gmemtest checks the same ones against the
 * kernel headers in test/unit/uapi.test.ts).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
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
#define GMEM_FLAG_MMAP        (1ull << 0)
#define N_KNOWN_VM_TYPES      6     /* default, sw_protected, sev, sev_es, snp, tdx */

#define FL_KEEP  FALLOC_FL_KEEP_SIZE
#define FL_PUNCH (FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE)

static long page;
static unsigned long long n_syscalls;
static unsigned long long n_unexpected;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Tallies a result that is not what the TypeScript case expects. */
static void expect(int cond)
{
	if (!cond)
		n_unexpected++;
}

static int kvm_ioctl(int fd, unsigned long req, unsigned long arg)
{
	n_syscalls++;
	return ioctl(fd, req, arg);
}

static int gmem_create(int vm, uint64_t size, uint64_t flags)
{
	struct gmem_create_arg a = { .size = size, .flags = flags };

	n_syscalls++;
	return ioctl(vm, REQ_CREATE_GMEM, &a);
}

static void drop_fd(int fd)
{
	if (fd >= 0) {
		n_syscalls++;
		close(fd);
	}
}

static long long file_size_of(int fd, ino_t *ino)
{
	struct stat st;

	n_syscalls++;
	if (fstat(fd, &st))
		return -1;
	if (ino)
		*ino = st.st_ino;
	return st.st_size;
}

static void read_sysfs(const char *path)
{
	char buf[64];
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	n_syscalls++;
	if (fd < 0)
		return;
	n_syscalls++;
	(void)!read(fd, buf, sizeof(buf));
	drop_fd(fd);
}

static int do_falloc(int fd, int mode, off_t off, off_t len)
{
	n_syscalls++;
	return fallocate(fd, mode, off, len);
}

/* --- per VM type ------------------------------------------------------------ */

static void every_flag_bit(int vm)
{
	uint64_t valid = (uint64_t)kvm_ioctl(vm, REQ_CHECK_EXTENSION, CAP_GUEST_MEMFD_FLAGS);

	for (int bit = 0; bit < 64; bit++) {
		uint64_t flag = 1ull << bit;
		int fd = gmem_create(vm, page, flag);
		int err = errno;

		drop_fd(fd);
		expect((flag & valid) ? fd >= 0 : (fd < 0 && err == EINVAL));
	}
}

/* --- per flag set ----------------------------------------------------------- */

static void two_files(int vm)
{
	ino_t ino1 = 0, ino2 = 0;
	int a = gmem_create(vm, page, 0);
	int b;

	expect(a >= 0);
	expect(file_size_of(a, &ino1) == page);
	b = gmem_create(vm, 2 * page, 0);
	expect(b >= 0);
	expect(file_size_of(b, &ino2) == 2 * page);
	expect(file_size_of(a, &ino1) == page);
	expect(ino1 != ino2);
	drop_fd(b);
	drop_fd(a);
}

static void unaligned_sizes(int vm, uint64_t flags)
{
	for (long size = 1; size < page; size++) {
		int fd = gmem_create(vm, size, flags);
		int err = errno;

		drop_fd(fd);
		expect(fd < 0 && err == EINVAL);
	}
}

static void rw_refused(int fd, char *scratch)
{
	n_syscalls += 4;
	expect(read(fd, scratch, 64) < 0);
	memset(scratch, 0, 64);
	expect(write(fd, scratch, 64) < 0);
	expect(pread(fd, scratch, 64, 0) < 0);
	memset(scratch, 0, 64);
	expect(pwrite(fd, scratch, 64, 0) < 0);
}

static void mmap_refused(int fd, long total)
{
	long lens[2] = { page, total };

	for (int i = 0; i < 2; i++) {
		void *p = mmap(NULL, lens[i], PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

		n_syscalls++;
		expect(p == MAP_FAILED);
		if (p != MAP_FAILED) {
			n_syscalls++;
			munmap(p, lens[i]);
		}
	}
}

static void size_and_blksize(int fd, long total)
{
	struct stat st;

	n_syscalls++;
	expect(fstat(fd, &st) == 0 && st.st_size == total && st.st_blksize == page);
}

static void allocate_and_punch(int fd, long total)
{
	expect(do_falloc(fd, FL_KEEP, 0, total) == 0);
	expect(do_falloc(fd, FL_PUNCH, page - 1, page) != 0);
	expect(do_falloc(fd, FL_KEEP, total, page) != 0);
	expect(do_falloc(fd, FL_KEEP, total + page, page) != 0);
	expect(do_falloc(fd, FL_PUNCH, total, page) == 0);
	expect(do_falloc(fd, FL_PUNCH, total + page, page) == 0);
	expect(do_falloc(fd, FL_PUNCH, page, page - 1) != 0);
	expect(do_falloc(fd, FL_PUNCH, page, page) == 0);
	expect(do_falloc(fd, FL_KEEP, page, page) == 0);
}

static void misaligned_punches(int fd)
{
	const long r[][2] = {
		{ 0, 1 }, { 0, page - 1 }, { 0, page + 1 },
		{ 1, 1 }, { 1, page - 1 }, { 1, page }, { 1, page + 1 },
		{ page, 1 }, { page, page - 1 }, { page, page + 1 },
	};

	for (unsigned i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
		int ret = do_falloc(fd, FL_PUNCH, r[i][0], r[i][1]);

		expect(ret == -1 && errno == EINVAL);
	}
}

enum file_case { RW, MMAP_REFUSED, SIZE, FALLOC, PUNCH, N_FILE_CASES };

/* One fresh guest_memfd of four pages with the set's flags per case, closed after. */
static void file_case(int vm, uint64_t flags, enum file_case which, char *scratch)
{
	long total = 4 * page;
	int fd = gmem_create(vm, total, flags);

	expect(fd >= 0);
	if (fd < 0)
		return;
	switch (which) {
	case RW:           rw_refused(fd, scratch); break;
	case MMAP_REFUSED: mmap_refused(fd, total); break;
	case SIZE:         size_and_blksize(fd, total); break;
	case FALLOC:       allocate_and_punch(fd, total); break;
	case PUNCH:        misaligned_punches(fd); break;
	default:           break;
	}
	drop_fd(fd);
}

static void flag_set(int vm, uint64_t flags, char *scratch)
{
	two_files(vm);
	unaligned_sizes(vm, flags);
	file_case(vm, flags, RW, scratch);
	if (!(flags & GMEM_FLAG_MMAP))
		file_case(vm, flags, MMAP_REFUSED, scratch);
	file_case(vm, flags, SIZE, scratch);
	file_case(vm, flags, FALLOC, scratch);
	file_case(vm, flags, PUNCH, scratch);
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

	/* open-device.ts */
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	n_syscalls++;
	if (kvm < 0) {
		printf("{\"skipped\":\"cannot open /dev/kvm: %s\"}\n", strerror(errno));
		return 4;
	}
	expect(kvm_ioctl(kvm, REQ_GET_API_VERSION, 0) == 12);
	expect(kvm_ioctl(kvm, REQ_CHECK_EXTENSION, CAP_GUEST_MEMFD) > 0);

	/* caps.ts (host.ts first, then the system fd, then one VM per advertised type) */
	page = sysconf(_SC_PAGESIZE);
	read_sysfs("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size");
	read_sysfs("/sys/devices/system/node/online");
	vm_types = (unsigned)kvm_ioctl(kvm, REQ_CHECK_EXTENSION, CAP_VM_TYPES);
	kvm_ioctl(kvm, REQ_GET_API_VERSION, 0);
	kvm_ioctl(kvm, REQ_CHECK_EXTENSION, CAP_GUEST_MEMFD);
	kvm_ioctl(kvm, REQ_CHECK_EXTENSION, CAP_GUEST_MEMFD_FLAGS);
	if (vm_types == 0)
		vm_types = 1;                  /* only the default VM */
	for (int t = 0; t < 32; t++) {
		int vm;

		if (!(vm_types & (1u << t)))
			continue;
		vm = kvm_ioctl(kvm, REQ_CREATE_VM, t);
		if (vm < 0)
			continue;
		kvm_ioctl(vm, REQ_CHECK_EXTENSION, CAP_GUEST_MEMFD);
		flags_of[ntypes] = (uint64_t)kvm_ioctl(vm, REQ_CHECK_EXTENSION, CAP_GUEST_MEMFD_FLAGS);
		types[ntypes++] = t;
		drop_fd(vm);
	}

	/* native.ts: one page of scratch memory for read/write buffers */
	scratch = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	n_syscalls++;
	t_probe = now_ns();

	/* tests/matrix.ts */
	for (int i = 0; i < ntypes; i++) {
		uint64_t sets[64];
		int nsets = subsets(flags_of[i], sets, 64);
		int vm = kvm_ioctl(kvm, REQ_CREATE_VM, types[i]);

		expect(vm >= 0);
		if (vm < 0)
			continue;
		every_flag_bit(vm);
		for (int s = 0; s < nsets; s++)
			flag_set(vm, sets[s], scratch);
		drop_fd(vm);
	}
	drop_fd(kvm);
	t_end = now_ns();

	printf("{\"mode\":\"suite\",\"page_size\":%ld,\"vm_types\":%d,\"syscalls\":%llu,"
	       "\"unexpected\":%llu,\"probe_ns\":%llu,\"cases_ns\":%llu,\"work_ns\":%llu}\n",
	       page, ntypes, n_syscalls, n_unexpected,
	       (unsigned long long)(t_probe - t0), (unsigned long long)(t_end - t_probe),
	       (unsigned long long)(t_end - t0));
	return n_unexpected ? 1 : 0;
}

/* The per-call floor: a KVM_CREATE_GUEST_MEMFD that the kernel refuses (size 1). */
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
