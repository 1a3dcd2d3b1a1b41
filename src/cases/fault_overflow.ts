/**
 * Port of test_fault_overflow() of guest_memfd_test.c: on shared memory, an access
 * past the end of the file (a mapping four times its size) raises SIGBUS.
 */
import type { GuestMemfd } from '../kvm/guest-memfd.js';
import type { CaseEnv } from './env.js';
import { faultSigbus } from './fault-sigbus.js';

export function fault_overflow(gmem: GuestMemfd, totalSize: number, _env: CaseEnv): void {
  return faultSigbus(gmem, totalSize, totalSize * 4);
}
