/**
 * Port of test_invalid_punch_hole() of guest_memfd_test.c: PUNCH_HOLE with an offset
 * or a length that is not page-aligned fails with EINVAL, for each of upstream's ten
 * ranges.
 */
import { EINVAL } from '../kvm/errno.js';
import type { GuestMemfd } from '../kvm/guest-memfd.js';
import { hex } from '../kvm/hex.js';
import { expectErrno } from './check.js';
import type { CaseEnv } from './env.js';
import { PUNCH_HOLE } from './kvm-util.js';

export function invalid_punch_hole(gmem: GuestMemfd, _totalSize: number, env: CaseEnv): void {
  const page = env.pageSize;
  const ranges: readonly (readonly [number, number])[] = [
    [0, 1], [0, page - 1], [0, page + 1],
    [1, 1], [1, page - 1], [1, page], [1, page + 1],
    [page, 1], [page, page - 1], [page, page + 1],
  ];
  for (const [offset, len] of ranges) {
    expectErrno(gmem.fallocate(PUNCH_HOLE, offset, len), EINVAL,
      `PUNCH_HOLE at offset ${hex(offset)}, length ${hex(len)} fails with EINVAL`);
  }
}
