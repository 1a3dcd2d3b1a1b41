/**
 * Ports of the per-guest_memfd file cases of guest_memfd_test.c: test_file_read_write,
 * test_file_size, test_fallocate, test_invalid_punch_hole. Each takes the guest_memfd
 * and its size, as upstream's gmem_test() hands them.
 */
import { EINVAL } from '../kvm/errno.js';
import type { GuestMemfd } from '../kvm/guest-memfd.js';
import { FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE } from '../kvm/uapi.js';
import { expectEq, expectErrno, expectFailure, expectOk, expectResult } from './check.js';
import type { CaseEnv } from './env.js';

const KEEP = FALLOC_FL_KEEP_SIZE;
const PUNCH = FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE;

/** read, write, pread and pwrite of 64 bytes all fail on a guest_memfd. */
export function file_read_write(gmem: GuestMemfd, _totalSize: number, _env: CaseEnv): void {
  const len = 64;
  expectFailure(gmem.read(len), 'read() of a guest_memfd fails');
  expectFailure(gmem.write(len), 'write() to a guest_memfd fails');
  expectFailure(gmem.pread(len, 0), 'pread() of a guest_memfd fails');
  expectFailure(gmem.pwrite(len, 0), 'pwrite() to a guest_memfd fails');
}

/** fstat reports the creation size and a page-sized st_blksize. */
export function file_size(gmem: GuestMemfd, totalSize: number, env: CaseEnv): void {
  const st = expectResult(gmem.fstat(), 'fstat() of a guest_memfd succeeds');
  expectEq(st.size, totalSize, 'st_size is the size the guest_memfd was created with');
  expectEq(st.blksize, env.pageSize, 'st_blksize is the page size');
}

/** Allocation and hole punching: aligned ranges inside the file work, the rest is refused. */
export function fallocate(gmem: GuestMemfd, total: number, env: CaseEnv): void {
  const page = env.pageSize;
  expectOk(gmem.fallocate(KEEP, 0, total), 'fallocate of the whole file (aligned) succeeds');
  expectFailure(gmem.fallocate(PUNCH, page - 1, page), 'PUNCH_HOLE at an unaligned offset fails');
  expectFailure(gmem.fallocate(KEEP, total, page), 'fallocate starting at the end of the file fails');
  expectFailure(gmem.fallocate(KEEP, total + page, page), 'fallocate starting past the end of the file fails');
  expectOk(gmem.fallocate(PUNCH, total, page), 'PUNCH_HOLE starting at the end of the file succeeds');
  expectOk(gmem.fallocate(PUNCH, total + page, page), 'PUNCH_HOLE starting past the end of the file succeeds');
  expectFailure(gmem.fallocate(PUNCH, page, page - 1), 'PUNCH_HOLE of an unaligned length fails');
  expectOk(gmem.fallocate(PUNCH, page, page), 'PUNCH_HOLE of one aligned page succeeds');
  expectOk(gmem.fallocate(KEEP, page, page), 'fallocate refilling the punched page succeeds');
}

/** PUNCH_HOLE with an offset or length that is not page-aligned fails with EINVAL. */
export function invalid_punch_hole(gmem: GuestMemfd, _totalSize: number, env: CaseEnv): void {
  const page = env.pageSize;
  const ranges: readonly (readonly [number, number])[] = [
    [0, 1], [0, page - 1], [0, page + 1],
    [1, 1], [1, page - 1], [1, page], [1, page + 1],
    [page, 1], [page, page - 1], [page, page + 1],
  ];
  for (const [offset, len] of ranges) {
    expectErrno(gmem.fallocate(PUNCH, offset, len), EINVAL,
      `PUNCH_HOLE at offset 0x${offset.toString(16)}, length 0x${len.toString(16)} fails with EINVAL`);
  }
}
