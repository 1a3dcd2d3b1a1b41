// The KTAP and JSON reporters on a synthetic plan, against golden files in fixtures/golden/.
// Regenerate with GMEMTEST_UPDATE_GOLDEN=1 after a deliberate format change, and review the diff.
import { readFileSync, writeFileSync } from 'node:fs';
import t from 'tap';
import { JsonReporter } from '../../src/runner/report-json.js';
import { KtapReporter } from '../../src/runner/report-ktap.js';
import { group, leaf, skipped, type PlanNode } from '../../src/runner/plan.js';
import { runPlan } from '../../src/runner/run.js';
import { parseXfail } from '../../src/runner/xfail.js';
import { expectEq, expectErrno, skip } from '../../src/cases/check.js';
import { parseKtap } from '../helpers/ktap.js';

const golden = (name: string): URL => new URL(`../../fixtures/golden/${name}`, import.meta.url);

function samplePlan(): PlanNode[] {
  return [
    group('', 'suite_a', (id) => [
      leaf(id, 'passes', () => {}),
      leaf(id, 'fails_eq', () => expectEq(4096, 8192, 'st_size is the size asked for')),
      leaf(id, 'fails_errno', () => expectErrno({ ret: 3, errno: 0 }, 22, 'unaligned size is refused')),
      leaf(id, 'skips', () => skip('needs 2 NUMA nodes, host has 1')),
      group(id, 'nested', (nid) => [
        leaf(nid, 'throws', () => { throw new TypeError('boom\nsecond line'); }),
        leaf(nid, 'known_bad', () => expectEq(1, 2, 'guest wrote 0xff')),
        leaf(nid, 'known_good', () => {}),
      ]),
    ]),
    skipped('', 'suite_b', 'VM type 2 not in KVM_CAP_VM_TYPES (0x1)'),
    group('', 'suite_c', (id) => [leaf(id, 'only_skips', () => skip('nothing to do'))]),
  ];
}

const xfail = parseXfail('suite_a.nested.known_* host quirk: memslot not served\n', 'inline');

// Stack frames and durations vary by machine: keep the rest.
const stable = (s: string): string => s.replace(/^( *# at: ).*$/gm, '$1<frame>');

t.test('KTAP reporter output matches the golden file and parses', async (t) => {
  let out = '';
  const r = new KtapReporter((s) => { out += s; }, ['gmemtest test header', 'second header line']);
  const summary = await runPlan(samplePlan(), r, { xfail });
  out = stable(out);
  if (process.env.GMEMTEST_UPDATE_GOLDEN) writeFileSync(golden('sample.ktap'), out);
  t.equal(out, readFileSync(golden('sample.ktap'), 'utf8'));
  t.same(summary.totals, { pass: 1, fail: 2, xfail: 1, xpass: 1, skip: 3, error: 1 });
  const k = parseKtap(out);
  t.equal(k.ok, false, 'failures make the document not ok');
  t.same(k.extra, []);
  t.same(k.tree.map((n) => [n.name, n.ok, n.directive]), [
    ['suite_a', false, null], ['suite_b', true, 'SKIP'], ['suite_c', true, 'SKIP'],
  ]);
  t.same(k.failures.filter((f) => (f as { tapError?: unknown }).tapError), [], 'no parse errors, only test failures');
  t.ok(k.failures.length > 0, 'the failing top-level test is a failure');
});

t.test('JSON reporter output matches the golden file', async (t) => {
  let out = '';
  const r = new JsonReporter((s) => { out += s; }, '0.0.0-test', { kernel: 'test' });
  await runPlan(samplePlan(), r, { xfail });
  const doc = JSON.parse(out) as { results: { duration_ms: number; diagnostics: string[] }[] };
  for (const x of doc.results) {
    x.duration_ms = 0;
    x.diagnostics = x.diagnostics.map((d) => d.replace(/^at: .*$/, 'at: <frame>'));
  }
  const text = `${JSON.stringify(doc, null, 2)}\n`;
  if (process.env.GMEMTEST_UPDATE_GOLDEN) writeFileSync(golden('sample.json'), text);
  t.equal(text, readFileSync(golden('sample.json'), 'utf8'));
});

t.test('a stop request bails out after the current case, output still parses', async (t) => {
  let out = '';
  let calls = 0;
  const r = new KtapReporter((s) => { out += s; });
  const summary = await runPlan(samplePlan(), r, { stopRequested: () => (++calls >= 2 ? 'interrupted by SIGTERM' : null) });
  t.equal(summary.bailedOut, 'interrupted by SIGTERM');
  t.match(out, /^Bail out! interrupted by SIGTERM$/m);
  t.match(out, /^# Totals: /m);
  const k = parseKtap(out);
  t.equal(k.bailout, 'interrupted by SIGTERM');
});
