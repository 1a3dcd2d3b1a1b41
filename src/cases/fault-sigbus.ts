/**
 * test_fault_sigbus() of guest_memfd_test.c, which fault_overflow and fault_private
 * share. The faulting accesses run in child processes (isolate/fault-probe.ts); this
 * process checks how they died and what the first one stored before it did, through a
 * mapping of its own.
 */
import { describeProbe, runFaultProbe, type ProbeOutcome, type ProbeSpec } from '../isolate/fault-probe.js';
import { hex } from '../kvm/hex.js';
import type { GuestMemfd } from '../kvm/guest-memfd.js';
import { CaseTimeout, CheckFailure } from '../runner/outcome.js';
import { expectBytes, kvmMmap, kvmMunmap } from './kvm-util.js';

/** The probe's child was killed by SIGBUS at the access (not before it, not otherwise). */
export function expectSigbus(spec: ProbeSpec, o: ProbeOutcome, what: string): void {
  if (o.status === 'sigbus' && o.armed) return;
  if (o.status === 'timeout') throw new CaseTimeout(`fault probe did not finish: ${what}`, describeProbe(spec, o));
  throw new CheckFailure(what, ['expected: the access raises SIGBUS', ...describeProbe(spec, o)]);
}

/**
 * test_fault_sigbus(): a memset over `mapSize` bytes faults once it passes
 * `accessibleSize`, a single read at `accessibleSize` faults too, and the first
 * `accessibleSize` bytes hold what the memset stored.
 */
export async function faultSigbus(gmem: GuestMemfd, accessibleSize: number, mapSize: number): Promise<void> {
  const val = 0xaa;
  using m = kvmMmap(gmem, mapSize);
  const fill: ProbeSpec = { op: 'fill', mapSize, offset: 0, length: mapSize, value: val };
  const read: ProbeSpec = { op: 'read', mapSize, offset: accessibleSize, length: 1 };
  // Independent: the read faults whatever the memset stored, so both children run at once.
  const [f, r] = await Promise.all([runFaultProbe(gmem.fd, fill), runFaultProbe(gmem.fd, read)]);
  expectSigbus(fill, f, `memset of ${hex(mapSize)} bytes raises SIGBUS`);
  expectSigbus(read, r, `a read at offset ${hex(accessibleSize)} raises SIGBUS`);
  expectBytes(m, 0, accessibleSize, val, 'the bytes before the fault hold what memset stored');
  kvmMunmap(m);
}
