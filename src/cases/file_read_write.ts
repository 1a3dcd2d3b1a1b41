/**
 * Port of test_file_read_write() of guest_memfd_test.c: read, write, pread and
 * pwrite of a guest_memfd all fail.
 */
import type { GuestMemfd } from '../kvm/guest-memfd.js';
import { expectFailure } from './check.js';
import type { CaseEnv } from './env.js';

export function file_read_write(gmem: GuestMemfd, _totalSize: number, _env: CaseEnv): void {
  const len = 64;
  expectFailure(gmem.read(len), 'read() of a guest_memfd fails');
  expectFailure(gmem.write(len), 'write() to a guest_memfd fails');
  expectFailure(gmem.pread(len, 0), 'pread() of a guest_memfd fails');
  expectFailure(gmem.pwrite(len, 0), 'pwrite() to a guest_memfd fails');
}
