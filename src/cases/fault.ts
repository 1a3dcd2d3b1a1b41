/**
 * Ports of the SIGBUS cases of guest_memfd_test.c: test_fault_overflow and
 * test_fault_private, both through test_fault_sigbus. The faulting accesses run in
 * child processes (kvm/fault-probe.ts); this process checks how they died and what
 * the first one stored before it did, through a mapping of its own.
 */
import { describeProbe, runFaultProbe, type ProbeOutcome, type ProbeSpec } from '../isolate/fault-probe.js';
import type { GuestMemfd } from '../kvm/guest-memfd.js';
import { CaseTimeout, CheckFailure } from '../runner/outcome.js';
import type { CaseEnv } from './env.js';
import { expectBytes, mapShared, unmapChecked } from './mmap.js';

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
  using m = mapShared(gmem, mapSize);
  const fill: ProbeSpec = { op: 'fill', mapSize, offset: 0, length: mapSize, value: val };
  const read: ProbeSpec = { op: 'read', mapSize, offset: accessibleSize, length: 1 };
  // Independent: the read faults whatever the memset stored, so both children run at once.
  const [f, r] = await Promise.all([runFaultProbe(gmem.fd, fill), runFaultProbe(gmem.fd, read)]);
  expectSigbus(fill, f, `memset of 0x${mapSize.toString(16)} bytes raises SIGBUS`);
  expectSigbus(read, r, `a read at offset 0x${accessibleSize.toString(16)} raises SIGBUS`);
  expectBytes(m, 0, accessibleSize, val, 'the bytes before the fault hold what memset stored');
  unmapChecked(m);
}

/** Shared memory: an access past the end of the file (a mapping 4x its size) faults. */
export function fault_overflow(gmem: GuestMemfd, totalSize: number, _env: CaseEnv): Promise<void> {
  return faultSigbus(gmem, totalSize, totalSize * 4);
}

/** Private memory (MMAP without INIT_SHARED): the very first access faults. */
export function fault_private(gmem: GuestMemfd, totalSize: number, _env: CaseEnv): Promise<void> {
  return faultSigbus(gmem, 0, totalSize);
}
