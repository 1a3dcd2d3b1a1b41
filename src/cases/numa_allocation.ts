/**
 * Port of test_numa_allocation() of guest_memfd_test.c: pages of a guest_memfd are
 * allocated on the node the mapping's policy binds them to, before and after the
 * policies are swapped and the file is punched and refilled. The mapping, the memsets,
 * mbind() and move_pages() are the access helper's (one address space, as upstream's);
 * the holes are punched here, on the same file.
 */
import type { GuestMemfd } from '../kvm/guest-memfd.js';
import type { RemoteMm } from '../isolate/remote-mm.js';
import { MPOL_BIND } from '../kvm/uapi/linux.js';
import { CheckFailure } from '../runner/outcome.js';
import { expectOk } from './check.js';
import type { CaseEnv } from './env.js';
import { accessed, accessHelperFor, kvmMmapIn, kvmMunmapIn, PUNCH_HOLE, requireMultiNode } from './kvm-util.js';

function expectNodes(mm: RemoteMm, addrs: readonly number[], want: readonly number[], when: string): void {
  const q = mm.queryPageNodes(addrs);
  expectOk(q.r, `move_pages() query of ${addrs.length} pages ${when} succeeds`);
  want.forEach((node, i) => {
    const got = q.status[i]!;
    if (got !== node) throw new CheckFailure(`page ${i} is on node ${node} ${when}`, [`expected: ${node}`, `got: ${got}`]);
  });
}

export function numa_allocation(gmem: GuestMemfd, totalSize: number, env: CaseEnv): void {
  requireMultiNode(env);
  const page = env.pageSize;
  const node0 = 1n;
  const node1 = 2n;
  const maxnode = 8;
  using mm = accessHelperFor(gmem);
  const m = kvmMmapIn(mm, totalSize);
  const memset = (len: number): void => { accessed(m, mm.fill(m.addr, len, 0xaa), `memset of ${len / page} page(s)`); };
  const pages = [0, 1, 2, 3].map((i) => m.addr + page * i);

  // A policy set after the page is allocated.
  memset(page);
  expectOk(mm.mbind(pages[0]!, page, MPOL_BIND, node0, maxnode), 'mbind(MPOL_BIND, node 0) of page 0 succeeds');
  expectOk(gmem.fallocate(PUNCH_HOLE, 0, page), 'PUNCH_HOLE of page 0 succeeds');

  // Policies set before allocation.
  expectOk(mm.mbind(pages[0]!, page * 2, MPOL_BIND, node1, maxnode), 'mbind(MPOL_BIND, node 1) of pages 0-1 succeeds');
  expectOk(mm.mbind(pages[2]!, page * 2, MPOL_BIND, node0, maxnode), 'mbind(MPOL_BIND, node 0) of pages 2-3 succeeds');
  memset(totalSize);
  expectNodes(mm, pages, [1, 1, 0, 0], 'after the first allocation');

  expectOk(gmem.fallocate(PUNCH_HOLE, 0, totalSize), 'PUNCH_HOLE of the whole file succeeds');

  expectOk(mm.mbind(pages[0]!, page * 2, MPOL_BIND, node0, maxnode), 'mbind(MPOL_BIND, node 0) of pages 0-1 succeeds');
  expectOk(mm.mbind(pages[2]!, page * 2, MPOL_BIND, node1, maxnode), 'mbind(MPOL_BIND, node 1) of pages 2-3 succeeds');
  memset(totalSize);
  expectNodes(mm, pages, [0, 0, 1, 1], 'after the policies were swapped and the file reallocated');

  kvmMunmapIn(m);
}
