/**
 * Port of test_mmap_cow() of guest_memfd_test.c: a private (copy-on-write) mapping
 * of a guest_memfd is refused.
 */
import type { GuestMemfd } from '../kvm/guest-memfd.js';
import { MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../kvm/uapi/linux.js';
import type { CaseEnv } from './env.js';
import { expectMapFailed } from './kvm-util.js';

export function mmap_cow(gmem: GuestMemfd, totalSize: number, _env: CaseEnv): void {
  expectMapFailed(gmem.tryMmap(totalSize, PROT_READ | PROT_WRITE, MAP_PRIVATE),
    'mmap(MAP_PRIVATE) of a guest_memfd fails: no copy-on-write');
}
