/**
 * Port of test_fault_private() of guest_memfd_test.c: on private memory (MMAP
 * without INIT_SHARED) the very first access raises SIGBUS.
 */
import type { GuestMemfd } from '../kvm/guest-memfd.js';
import type { CaseEnv } from './env.js';
import { faultSigbus } from './fault-sigbus.js';

export function fault_private(gmem: GuestMemfd, totalSize: number, _env: CaseEnv): void {
  return faultSigbus(gmem, 0, totalSize);
}
