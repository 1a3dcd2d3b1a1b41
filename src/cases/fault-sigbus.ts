/**
 * test_fault_sigbus() of guest_memfd_test.c, which fault_overflow and fault_private
 * share. Upstream makes both faulting accesses in its own process and survives them
 * (TEST_EXPECT_SIGBUS); here each is made by an access helper of its own, which the
 * SIGBUS kills, and a third one reads back what the memset stored before the fault.
 */
import { hex } from '../kvm/hex.js';
import type { GuestMemfd } from '../kvm/guest-memfd.js';
import { accessed, accessHelperFor, expectBytes, expectSigbusOn, kvmMmapIn, kvmMunmapIn } from './kvm-util.js';

/**
 * A memset over `mapSize` bytes faults once it passes `accessibleSize`, a single read at
 * `accessibleSize` faults too, and the first `accessibleSize` bytes hold what the memset
 * stored.
 */
export function faultSigbus(gmem: GuestMemfd, accessibleSize: number, mapSize: number): void {
  const val = 0xaa;
  {
    using mm = accessHelperFor(gmem);
    const m = kvmMmapIn(mm, mapSize);
    expectSigbusOn(m, mm.fill(m.addr, mapSize, val), `memset of ${hex(mapSize)} bytes raises SIGBUS`, 'memset');
  }
  {
    using mm = accessHelperFor(gmem);
    const m = kvmMmapIn(mm, mapSize);
    expectSigbusOn(m, mm.load(m.addr + accessibleSize, 1), `a read at offset ${hex(accessibleSize)} raises SIGBUS`, 'read');
  }
  using mm = accessHelperFor(gmem);
  const m = kvmMmapIn(mm, mapSize);
  const before = accessed(m, mm.load(m.addr, accessibleSize), `reading back the ${hex(accessibleSize)} bytes before the fault`);
  expectBytes(before, 0, val, 'the bytes before the fault hold what memset stored');
  kvmMunmapIn(m);
}
