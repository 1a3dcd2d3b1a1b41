/**
 * Port of test_mmap_not_supported() of guest_memfd_test.c: without
 * GUEST_MEMFD_FLAG_MMAP a shared mapping of one page or of the whole file fails.
 */
import type { GuestMemfd } from '../kvm/guest-memfd.js';
import type { CaseEnv } from './env.js';
import { expectMapFailed } from './kvm-util.js';

export function mmap_not_supported(gmem: GuestMemfd, totalSize: number, env: CaseEnv): void {
  expectMapFailed(gmem.tryMmap(env.pageSize), 'mmap(MAP_SHARED) of one page fails without MMAP');
  expectMapFailed(gmem.tryMmap(totalSize), 'mmap(MAP_SHARED) of the whole file fails without MMAP');
}
