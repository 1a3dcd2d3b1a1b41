/**
 * Port of test_mmap_supported() of guest_memfd_test.c: shared memory is read/write
 * through a mapping; punching the first page makes it read as zeroes and leaves the
 * rest; writing it again refills it. The mapping and its accesses are the access
 * helper's (kvm-util.ts), the hole is punched here, on the same file.
 */
import type { GuestMemfd } from '../kvm/guest-memfd.js';
import { hex } from '../kvm/hex.js';
import { expectOk } from './check.js';
import type { CaseEnv } from './env.js';
import { accessed, accessHelperFor, expectBytes, kvmMmapIn, kvmMunmapIn, PUNCH_HOLE } from './kvm-util.js';

export function mmap_supported(gmem: GuestMemfd, totalSize: number, env: CaseEnv): void {
  const val = 0xaa;
  const page = env.pageSize;
  using mm = accessHelperFor(gmem);
  const m = kvmMmapIn(mm, totalSize);
  const read = (from: number, len: number): Buffer =>
    accessed(m, mm.load(m.addr + from, len), `reading [${hex(from)}, ${hex(from + len)}) of the mapping`);

  accessed(m, mm.fill(m.addr, totalSize, val), 'memset of the whole mapping');
  expectBytes(read(0, totalSize), 0, val, 'every byte reads back what memset stored');

  expectOk(gmem.fallocate(PUNCH_HOLE, 0, page), 'PUNCH_HOLE of the first page succeeds');
  expectBytes(read(0, page), 0, 0x00, 'the punched first page reads as zeroes');
  expectBytes(read(page, totalSize - page), page, val, 'the pages after the hole still hold the value');

  accessed(m, mm.fill(m.addr, page, val), 'memset of the first page');
  expectBytes(read(0, totalSize), 0, val, 'after refilling the first page every byte holds the value');

  kvmMunmapIn(m);
}
