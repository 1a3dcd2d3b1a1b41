/** Ports of the mmap cases of guest_memfd_test.c that need no fault: test_mmap_not_supported. */
import type { GuestMemfd } from '../kvm/guest-memfd.js';
import type { Result } from '../kvm/result.js';
import type { Mapping } from '../kvm/mapping.js';
import { CheckFailure } from './check.js';
import type { CaseEnv } from './env.js';

function expectMapFailed(r: Result<Mapping>, what: string): void {
  if (!r.ok) return;
  const addr = r.value.addr;
  r.value.unmap();
  throw new CheckFailure(what, ['expected: MAP_FAILED', `got: a mapping at 0x${addr.toString(16)}`]);
}

/** Without GUEST_MEMFD_FLAG_MMAP, a shared mapping of one page or of the whole file fails. */
export function mmap_not_supported(gmem: GuestMemfd, totalSize: number, env: CaseEnv): void {
  expectMapFailed(gmem.tryMmap(env.pageSize), 'mmap(MAP_SHARED) of one page fails without MMAP');
  expectMapFailed(gmem.tryMmap(totalSize), 'mmap(MAP_SHARED) of the whole file fails without MMAP');
}
