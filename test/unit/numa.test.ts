// The NUMA syscall wrappers against this host's kernel (node 0 always exists), and the
// multi-node gate of mbind / numa_allocation.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { hostInfo, maxNumaNodeId, numaNodeCount } from '../../src/kvm/host.js';
import { Mapping } from '../../src/kvm/mapping.js';
import { getMempolicy, mbind, numaAvailable, queryPageNodes } from '../../src/kvm/numa.js';
import {
  MAP_ANONYMOUS, MAP_PRIVATE, MPOL_BIND, MPOL_DEFAULT, MPOL_F_ADDR, MPOL_INTERLEAVE, PROT_READ, PROT_WRITE,
} from '../../src/kvm/uapi/linux.js';
import { SkipCase } from '../../src/runner/outcome.js';
import { requireMultiNode } from '../../src/cases/kvm-util.js';

const PAGE = 4096;
const anon = (): Mapping => Mapping.map(0, PAGE * 4, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);

t.test('mbind / get_mempolicy round trip on node 0', async (t) => {
  t.ok(numaAvailable(), 'get_mempolicy() is available');
  using m = anon();
  t.equal(mbind(m.addr, PAGE * 2, MPOL_INTERLEAVE, 1n, 64).ret, 0, 'MPOL_INTERLEAVE on node 0');
  let p = getMempolicy(m.addr, 64, MPOL_F_ADDR);
  t.same(p.ok && p.value, { policy: MPOL_INTERLEAVE, nodemask: 1n });
  t.equal(mbind(m.addr + PAGE * 2, PAGE * 2, MPOL_BIND, 1n, 8).ret, 0, 'MPOL_BIND, maxnode 8');
  p = getMempolicy(m.addr + PAGE * 2, 8, MPOL_F_ADDR);
  t.same(p.ok && p.value, { policy: MPOL_BIND, nodemask: 1n });
  t.equal(mbind(m.addr, PAGE * 4, MPOL_DEFAULT, null, 0).ret, 0, 'MPOL_DEFAULT with a NULL mask');
  p = getMempolicy(m.addr, 64, MPOL_F_ADDR);
  t.same(p.ok && p.value, { policy: MPOL_DEFAULT, nodemask: 0n });
  t.same(mbind(m.addr, PAGE, 999, 1n, 64), { ret: -1, errno: 22 }, 'invalid policy: EINVAL');
});

t.test('maxnode counts bits plus one', async (t) => {
  using m = anon();
  // maxnode 1 leaves no bit of the mask: MPOL_BIND with an empty set is refused.
  t.same(mbind(m.addr, PAGE, MPOL_BIND, 1n, 1), { ret: -1, errno: 22 });
  t.equal(mbind(m.addr, PAGE, MPOL_BIND, 1n, 2).ret, 0, 'maxnode 2 reaches node 0');
  const p = getMempolicy(m.addr, 0, MPOL_F_ADDR);
  t.notOk(p.ok, 'get_mempolicy with maxnode below the node count fails');
});

t.test('move_pages query: node of a present page, -ENOENT for an absent one', async (t) => {
  using m = anon();
  m.mem[0] = 1;
  const q = queryPageNodes([m.addr, m.addr + PAGE]);
  t.equal(q.r.ret, 0);
  t.equal(q.status[0], 0, 'touched page on node 0');
  t.equal(q.status[1], -2, 'untouched page: -ENOENT');
});

t.test('node directories are counted from the online list', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gmemtest-nodes-'));
  t.teardown(() => rmSync(dir, { recursive: true }));
  t.equal(numaNodeCount(dir), 1, 'nothing there: one node');
  for (const d of ['node0', 'node3', 'nodeX', 'possible']) mkdirSync(join(dir, d));
  t.equal(numaNodeCount(dir), 2, 'no online file: the nodeN directories');
  writeFileSync(join(dir, 'online'), '0-1,3\n');
  t.equal(numaNodeCount(dir), 3, 'the online list wins');
});

t.test('the multi-node gate reads the highest node id, as the selftests\' get_max_numa_node()', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gmemtest-nodes-'));
  t.teardown(() => rmSync(dir, { recursive: true }));
  t.equal(maxNumaNodeId(join(dir, 'absent')), 0, 'no sysfs directory: node 0 only');
  t.equal(maxNumaNodeId(dir), 0, 'no node directories: node 0 only');
  for (const d of ['node0', 'nodeX', 'node2x', 'possible']) mkdirSync(join(dir, d));
  t.equal(maxNumaNodeId(dir), 0, 'only node0 counts');
  mkdirSync(join(dir, 'node3'));
  t.equal(maxNumaNodeId(dir), 3, 'a sparse node id counts as itself');
});

t.test('one node: mbind and numa_allocation skip naming the node count', async (t) => {
  const env = hostInfo();
  t.equal(env.maxNumaNode, maxNumaNodeId(), 'the host info carries the highest node id');
  t.equal(requireMultiNode({ ...env, numaNodes: 2, maxNumaNode: 1 }), undefined, 'a node 1: no skip');
  t.throws(() => requireMultiNode({ ...env, numaNodes: 1, maxNumaNode: 0 }), new SkipCase('needs a multi-node NUMA system',
    ['host: this host has 1 NUMA node, the highest node id is 0']));
  t.throws(() => requireMultiNode({ ...env, numaNodes: 2, maxNumaNode: 0 }), /multi-node/, 'two nodes counted, but no node id above 0: skip, as upstream');
  if (env.maxNumaNode >= 1) {
    t.doesNotThrow(() => requireMultiNode(env));
    return;
  }
  t.throws(() => requireMultiNode(env), new SkipCase('needs a multi-node NUMA system',
    [`host: this host has ${env.numaNodes} NUMA node${env.numaNodes === 1 ? '' : 's'}, the highest node id is 0`]));
});
