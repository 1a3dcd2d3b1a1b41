/**
 * The asserting helpers the upstream cases call from the selftests' library
 * (kvm_util.h, kvm_syscalls.h, numaif.h), as checks: each one's failure is the
 * case's `not ok`, with what was expected and what came.
 */
import { hex } from '../kvm/hex.js';
import type { GuestMemfd } from '../kvm/guest-memfd.js';
import type { Mapping } from '../kvm/mapping.js';
import { numaAvailable } from '../kvm/numa.js';
import type { Result } from '../kvm/result.js';
import { FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE } from '../kvm/uapi/linux.js';
import { CheckFailure } from '../runner/outcome.js';
import { expectOk, expectResult, skip } from './check.js';
import type { CaseEnv } from './env.js';

/** fallocate mode of every hole punched in the cases. */
export const PUNCH_HOLE = FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE;

/** kvm_mmap(): a shared read/write mapping that must succeed. */
export function kvmMmap(gmem: GuestMemfd, length: number): Mapping {
  return expectResult(gmem.tryMmap(length), `mmap(MAP_SHARED) of ${hex(length)} bytes succeeds`, 'MAP_FAILED');
}

/** kvm_munmap(): munmap that must succeed. */
export function kvmMunmap(m: Mapping): void {
  expectOk(m.unmap(), `munmap of the ${hex(m.length)}-byte mapping succeeds`);
}

/** TEST_ASSERT_EQ(mem, MAP_FAILED): the mmap must have failed (a mapping made anyway is undone). */
export function expectMapFailed(r: Result<Mapping>, what: string): void {
  if (!r.ok) return;
  const addr = r.value.addr;
  r.value.unmap();
  throw new CheckFailure(what, ['expected: MAP_FAILED', `got: a mapping at ${hex(addr)}`]);
}

/**
 * TEST_ASSERT_EQ(READ_ONCE(mem[i]), want) for every i of [from, to): one real load per
 * byte from the mapping's zero-copy Buffer.
 */
export function expectBytes(m: Mapping, from: number, to: number, want: number, what: string): void {
  const mem = m.mem;
  for (let i = from; i < to; i++) {
    const got = mem[i]!;
    if (got !== want) {
      throw new CheckFailure(what, [`offset: ${hex(i)}`, `expected: ${hex(want)}`, `got: ${hex(got)}`]);
    }
  }
}

/** upstream's is_multi_numa_node_system(), as a skip with the reason. */
export function requireMultiNode(env: CaseEnv): void {
  if (!numaAvailable()) skip('NUMA is not available (get_mempolicy: ENOSYS or EPERM)');
  // env.numaNodes counts /sys/devices/system/node/online, as numa_max_node() does.
  if (env.numaNodes < 2) {
    skip(`needs a multi-node NUMA system; this host has ${env.numaNodes} NUMA node${env.numaNodes === 1 ? '' : 's'}`);
  }
}
