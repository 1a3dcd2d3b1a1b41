/**
 * Port of test_fallocate() of guest_memfd_test.c: allocation and hole punching of
 * aligned ranges inside the file work; unaligned ranges and allocation at or past
 * the end are refused; punching at or past the end succeeds.
 */
import type { GuestMemfd } from '../kvm/guest-memfd.js';
import { FALLOC_FL_KEEP_SIZE } from '../kvm/uapi/linux.js';
import { expectFailure, expectOk } from './check.js';
import type { CaseEnv } from './env.js';
import { PUNCH_HOLE } from './kvm-util.js';

const KEEP = FALLOC_FL_KEEP_SIZE;

export function fallocate(gmem: GuestMemfd, total: number, env: CaseEnv): void {
  const page = env.pageSize;
  expectOk(gmem.fallocate(KEEP, 0, total), 'fallocate of the whole file (aligned) succeeds');
  expectFailure(gmem.fallocate(PUNCH_HOLE, page - 1, page), 'PUNCH_HOLE at an unaligned offset fails');
  expectFailure(gmem.fallocate(KEEP, total, page), 'fallocate starting at the end of the file fails');
  expectFailure(gmem.fallocate(KEEP, total + page, page), 'fallocate starting past the end of the file fails');
  expectOk(gmem.fallocate(PUNCH_HOLE, total, page), 'PUNCH_HOLE starting at the end of the file succeeds');
  expectOk(gmem.fallocate(PUNCH_HOLE, total + page, page), 'PUNCH_HOLE starting past the end of the file succeeds');
  expectFailure(gmem.fallocate(PUNCH_HOLE, page, page - 1), 'PUNCH_HOLE of an unaligned length fails');
  expectOk(gmem.fallocate(PUNCH_HOLE, page, page), 'PUNCH_HOLE of one aligned page succeeds');
  expectOk(gmem.fallocate(KEEP, page, page), 'fallocate refilling the punched page succeeds');
}
