// The port against the upstream of the kernel it mirrors (src/cases/catalogue.ts UPSTREAM):
// Debian's linux-source of that release, read by the kernel lab's upstream reader, has no
// test_* function and no driver call the port lacks. SKIP (with the reason) where the
// archive cannot be reached.
import t from 'tap';
import { UPSTREAM } from '../../src/cases/catalogue.js';
import { kunitTree } from '../../scripts/kernels/linux-tools.js';
import { upstreamGaps } from '../../scripts/lab/upstream-cases.js';

const series = /^Linux (\d+\.\d+)\./.exec(UPSTREAM.release)![1]!;
const tree = kunitTree(series);

t.test(`guest_memfd_test.c and set_memory_region_test.c of ${UPSTREAM.release} against the port`,
  { skip: tree.ok ? false : tree.reason }, async (t) => {
    if (!tree.ok) return;
    t.same(upstreamGaps(tree.tree), [], `no gaps in ${tree.tree}`);
  });
