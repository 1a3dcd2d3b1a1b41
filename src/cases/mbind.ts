/**
 * Port of test_mbind() of guest_memfd_test.c: mbind() on a guest_memfd mapping sets
 * the policy get_mempolicy() then reports (MPOL_INTERLEAVE, MPOL_BIND, MPOL_DEFAULT),
 * and an invalid policy is refused with EINVAL. Upstream returns early on a host
 * without two NUMA nodes; here that is a SKIP naming the node count.
 */
import { EINVAL } from '../kvm/errno.js';
import type { GuestMemfd } from '../kvm/guest-memfd.js';
import { hex } from '../kvm/hex.js';
import type { RemoteMm } from '../isolate/remote-mm.js';
import { MPOL_BIND, MPOL_DEFAULT, MPOL_F_ADDR, MPOL_INTERLEAVE } from '../kvm/uapi/linux.js';
import { CheckFailure } from '../runner/outcome.js';
import { expectErrno, expectOk, expectResult } from './check.js';
import type { CaseEnv } from './env.js';
import { accessHelperFor, kvmMmapIn, kvmMunmapIn, requireMultiNode } from './kvm-util.js';

function expectPolicy(mm: RemoteMm, addr: number, maxnode: number, policy: number, nodemask: bigint, what: string): void {
  const got = expectResult(mm.getMempolicy(addr, maxnode, MPOL_F_ADDR), `get_mempolicy(MPOL_F_ADDR) at ${hex(addr)} succeeds`);
  if (got.policy !== policy || got.nodemask !== nodemask) {
    throw new CheckFailure(what, [`expected: policy ${policy}, nodemask ${hex(nodemask)}`,
      `got: policy ${got.policy}, nodemask ${hex(got.nodemask)}`]);
  }
}

export function mbind(gmem: GuestMemfd, totalSize: number, env: CaseEnv): void {
  requireMultiNode(env);
  const page = env.pageSize;
  const node0 = 1n;
  const maxnode = 64; // the bits of one unsigned long
  using mm = accessHelperFor(gmem);
  const m = kvmMmapIn(mm, totalSize);

  expectOk(mm.mbind(m.addr, page * 2, MPOL_INTERLEAVE, node0, maxnode), 'mbind(MPOL_INTERLEAVE, node 0) of two pages succeeds');
  expectPolicy(mm, m.addr, maxnode, MPOL_INTERLEAVE, node0, 'the first page has MPOL_INTERLEAVE on node 0');

  expectOk(mm.mbind(m.addr + page * 2, page * 2, MPOL_BIND, node0, maxnode), 'mbind(MPOL_BIND, node 0) of pages 2-3 succeeds');
  expectPolicy(mm, m.addr + page * 2, maxnode, MPOL_BIND, node0, 'page 2 has MPOL_BIND on node 0');

  expectOk(mm.mbind(m.addr, totalSize, MPOL_DEFAULT, null, 0), 'mbind(MPOL_DEFAULT) of the whole mapping succeeds');
  expectPolicy(mm, m.addr, maxnode, MPOL_DEFAULT, 0n, 'the first page is back to MPOL_DEFAULT with an empty nodemask');

  expectErrno(mm.mbind(m.addr, page, 999, node0, maxnode), EINVAL, 'mbind with the invalid policy 999 fails with EINVAL');
  kvmMunmapIn(m);
}
