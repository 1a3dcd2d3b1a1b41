/**
 * Ports of the NUMA cases of guest_memfd_test.c: test_mbind and test_numa_allocation.
 * Upstream returns early (passes) on a host without two NUMA nodes; here such a host
 * reports the case SKIP, naming its node count.
 */
import type { GuestMemfd } from '../kvm/guest-memfd.js';
import { EINVAL } from '../kvm/errno.js';
import { getMempolicy, mbind as sysMbind, numaAvailable, queryPageNodes } from '../kvm/numa.js';
import {
  FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, MPOL_BIND, MPOL_DEFAULT, MPOL_F_ADDR, MPOL_INTERLEAVE,
} from '../kvm/uapi.js';
import { expectErrno, expectOk, expectResult, skip } from './check.js';
import { CheckFailure } from '../runner/outcome.js';
import type { CaseEnv } from './env.js';
import { mapShared, unmapChecked } from './mmap.js';
import { hex } from '../kvm/hex.js';

const PUNCH = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;

/** upstream's is_multi_numa_node_system(), as a skip with the reason. */
export function requireMultiNode(env: CaseEnv): void {
  if (!numaAvailable()) skip('NUMA is not available (get_mempolicy: ENOSYS or EPERM)');
  // env.numaNodes counts /sys/devices/system/node/online, as numa_max_node() does.
  if (env.numaNodes < 2) {
    skip(`needs a multi-node NUMA system; this host has ${env.numaNodes} NUMA node${env.numaNodes === 1 ? '' : 's'}`);
  }
}

function expectPolicy(addr: number, maxnode: number, policy: number, nodemask: bigint, what: string): void {
  const got = expectResult(getMempolicy(addr, maxnode, MPOL_F_ADDR), `get_mempolicy(MPOL_F_ADDR) at ${hex(addr)} succeeds`);
  if (got.policy !== policy || got.nodemask !== nodemask) {
    throw new CheckFailure(what, [`expected: policy ${policy}, nodemask ${hex(nodemask)}`,
      `got: policy ${got.policy}, nodemask ${hex(got.nodemask)}`]);
  }
}

/** mbind() on a guest_memfd mapping sets the policy get_mempolicy() then reports. */
export function mbind(gmem: GuestMemfd, totalSize: number, env: CaseEnv): void {
  requireMultiNode(env);
  const page = env.pageSize;
  const node0 = 1n;
  const maxnode = 64; // the bits of one unsigned long
  using m = mapShared(gmem, totalSize);

  expectOk(sysMbind(m.addr, page * 2, MPOL_INTERLEAVE, node0, maxnode), 'mbind(MPOL_INTERLEAVE, node 0) of two pages succeeds');
  expectPolicy(m.addr, maxnode, MPOL_INTERLEAVE, node0, 'the first page has MPOL_INTERLEAVE on node 0');

  expectOk(sysMbind(m.addr + page * 2, page * 2, MPOL_BIND, node0, maxnode), 'mbind(MPOL_BIND, node 0) of pages 2-3 succeeds');
  expectPolicy(m.addr + page * 2, maxnode, MPOL_BIND, node0, 'page 2 has MPOL_BIND on node 0');

  expectOk(sysMbind(m.addr, totalSize, MPOL_DEFAULT, null, 0), 'mbind(MPOL_DEFAULT) of the whole mapping succeeds');
  expectPolicy(m.addr, maxnode, MPOL_DEFAULT, 0n, 'the first page is back to MPOL_DEFAULT with an empty nodemask');

  expectErrno(sysMbind(m.addr, page, 999, node0, maxnode), EINVAL, 'mbind with the invalid policy 999 fails with EINVAL');
  unmapChecked(m);
}

function expectNodes(addrs: readonly number[], want: readonly number[], when: string): void {
  const q = queryPageNodes(addrs);
  expectOk(q.r, `move_pages() query of ${addrs.length} pages ${when} succeeds`);
  want.forEach((node, i) => {
    const got = q.status[i]!;
    if (got !== node) throw new CheckFailure(`page ${i} is on node ${node} ${when}`, [`expected: ${node}`, `got: ${got}`]);
  });
}

/** Pages of a guest_memfd are allocated on the node the mapping's policy binds them to. */
export function numa_allocation(gmem: GuestMemfd, totalSize: number, env: CaseEnv): void {
  requireMultiNode(env);
  const page = env.pageSize;
  const node0 = 1n;
  const node1 = 2n;
  const maxnode = 8;
  using m = mapShared(gmem, totalSize);
  const pages = [0, 1, 2, 3].map((i) => m.addr + page * i);

  // A policy set after the page is allocated.
  m.mem.fill(0xaa, 0, page);
  expectOk(sysMbind(pages[0]!, page, MPOL_BIND, node0, maxnode), 'mbind(MPOL_BIND, node 0) of page 0 succeeds');
  expectOk(gmem.fallocate(PUNCH, 0, page), 'PUNCH_HOLE of page 0 succeeds');

  // Policies set before allocation.
  expectOk(sysMbind(pages[0]!, page * 2, MPOL_BIND, node1, maxnode), 'mbind(MPOL_BIND, node 1) of pages 0-1 succeeds');
  expectOk(sysMbind(pages[2]!, page * 2, MPOL_BIND, node0, maxnode), 'mbind(MPOL_BIND, node 0) of pages 2-3 succeeds');
  m.mem.fill(0xaa, 0, totalSize);
  expectNodes(pages, [1, 1, 0, 0], 'after the first allocation');

  expectOk(gmem.fallocate(PUNCH, 0, totalSize), 'PUNCH_HOLE of the whole file succeeds');

  expectOk(sysMbind(pages[0]!, page * 2, MPOL_BIND, node0, maxnode), 'mbind(MPOL_BIND, node 0) of pages 0-1 succeeds');
  expectOk(sysMbind(pages[2]!, page * 2, MPOL_BIND, node1, maxnode), 'mbind(MPOL_BIND, node 1) of pages 2-3 succeeds');
  m.mem.fill(0xaa, 0, totalSize);
  expectNodes(pages, [0, 0, 1, 1], 'after the policies were swapped and the file reallocated');

  unmapChecked(m);
}
