/**
 * Port of test_mmap_supported() of guest_memfd_test.c: shared memory is read/write
 * through a mapping; punching the first page makes it read as zeroes and leaves the
 * rest; writing it again refills it.
 */
import type { GuestMemfd } from '../kvm/guest-memfd.js';
import { expectOk } from './check.js';
import type { CaseEnv } from './env.js';
import { expectBytes, kvmMmap, kvmMunmap, PUNCH_HOLE } from './kvm-util.js';

export function mmap_supported(gmem: GuestMemfd, totalSize: number, env: CaseEnv): void {
  const val = 0xaa;
  const page = env.pageSize;
  using m = kvmMmap(gmem, totalSize);

  m.mem.fill(val, 0, totalSize);
  expectBytes(m, 0, totalSize, val, 'every byte reads back what memset stored');

  expectOk(gmem.fallocate(PUNCH_HOLE, 0, page),
    'PUNCH_HOLE of the first page succeeds');
  expectBytes(m, 0, page, 0x00, 'the punched first page reads as zeroes');
  expectBytes(m, page, totalSize, val, 'the pages after the hole still hold the value');

  m.mem.fill(val, 0, page);
  expectBytes(m, 0, totalSize, val, 'after refilling the first page every byte holds the value');

  kvmMunmap(m);
}
