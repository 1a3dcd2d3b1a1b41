/**
 * Port of test_file_size() of guest_memfd_test.c: fstat reports the creation size
 * and a page-sized st_blksize.
 */
import type { GuestMemfd } from '../kvm/guest-memfd.js';
import { expectEq, expectResult } from './check.js';
import type { CaseEnv } from './env.js';

export function file_size(gmem: GuestMemfd, totalSize: number, env: CaseEnv): void {
  const st = expectResult(gmem.fstat(), 'fstat() of a guest_memfd succeeds');
  expectEq(st.size, totalSize, 'st_size is the size the guest_memfd was created with');
  expectEq(st.blksize, env.pageSize, 'st_blksize is the page size');
}
