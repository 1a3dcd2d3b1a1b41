// Soak: the fd-level cases 200 times over in one process. Open fds and mappings must not
// grow, and resident memory must stay within a stated bound.
import { readdirSync, readFileSync } from 'node:fs';
import t from 'tap';
import { probeCaps } from '../../src/kvm/caps.js';
import { Kvm } from '../../src/kvm/kvm.js';
import { filterPlan, repeatPlan } from '../../src/runner/plan.js';
import type { Reporter } from '../../src/runner/reporter.js';
import { runPlan } from '../../src/runner/run.js';
import { buildPlan } from '../../src/cases/matrix.js';
import { knownFailureRules } from '../helpers/known-failures.js';
import { kvmUnavailable } from '../helpers/kvm.js';

const ITERATIONS = 200;
/** RSS may grow this much over the soak (V8's heap settling, ffi-rs caches), no more. */
const RSS_BOUND_MIB = 48;

const fds = (): number => readdirSync('/proc/self/fd').length;
const maps = (): string[] => readFileSync('/proc/self/maps', 'utf8').split('\n').filter(Boolean);
const kvmMaps = (): number => maps().filter((l) => /anon_inode:\[?kvm-/.test(l)).length;
const rssMiB = (): number => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))![1]) / 1024;

t.test(`fd-level cases x${ITERATIONS}: no fd or mapping growth, RSS within ${RSS_BOUND_MIB} MiB`,
  { skip: kvmUnavailable() ?? false }, async (t) => {
    using kvm = Kvm.open();
    const caps = probeCaps(kvm);
    const globs = ['default_vm.guest_memfd_flags', 'default_vm.flags-none.*'];
    const counts = { pass: 0, other: [] as string[] };
    const reporter: Reporter = {
      begin() {}, enterGroup() {}, end() {},
      result(n, _d, _i, o) {
        if (n.children) return;
        if (o.status === 'pass' || o.status === 'xfail') counts.pass++;
        else counts.other.push(`${n.id}: ${o.status} ${o.diagnostics.join(' / ')}`);
      },
    };
    const once = (n: number) => runPlan(repeatPlan(filterPlan(buildPlan(kvm, caps, { mode: 'all', vmTypes: [0] }), globs), n), reporter, { checkLeaks: true, xfail: knownFailureRules() });
    await once(2); // warm up: lazy scratch pages, JIT, ffi-rs state
    global.gc?.();
    const before = { fds: fds(), kvmMaps: kvmMaps(), maps: maps().length, rss: rssMiB() };
    counts.pass = 0;
    await once(ITERATIONS);
    global.gc?.();
    const after = { fds: fds(), kvmMaps: kvmMaps(), maps: maps().length, rss: rssMiB() };
    t.same(counts.other, [], 'every iteration passed (or failed as this host is known to)');
    t.equal(counts.pass, ITERATIONS * 9, `${ITERATIONS} x 9 cases ran`);
    t.equal(after.fds, before.fds, 'no fd growth');
    t.equal(after.kvmMaps, 0, 'no guest_memfd mapping left');
    // V8 maps and unmaps heap pages as it pleases (a dozen or so here), so the bound is
    // per iteration: a case leaking one mapping per run would add ITERATIONS of them.
    t.ok(after.maps - before.maps < ITERATIONS / 4, `mappings do not grow with iterations (${before.maps} -> ${after.maps})`);
    t.ok(after.rss - before.rss <= RSS_BOUND_MIB, `RSS ${before.rss.toFixed(1)} -> ${after.rss.toFixed(1)} MiB`);
    t.comment(`soak: fds ${before.fds}->${after.fds}, maps ${before.maps}->${after.maps}, rss ${before.rss.toFixed(1)}->${after.rss.toFixed(1)} MiB`);
  });
