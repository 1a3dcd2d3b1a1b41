// An interrupted run keeps every plan it announced: the cases it did not reach are
// reported not run, and abortNow() (a second signal) closes the output at once, the case
// running then reported interrupted. Checked on the KTAP itself, with the project's reader.
import t from 'tap';
import { readKtap, walkTests } from '../../src/ktap/reader.js';
import { FlatKtapReporter, KtapReporter } from '../../src/runner/report-ktap.js';
import { group, leaf, skipped, type PlanNode } from '../../src/runner/plan.js';
import { startPlan } from '../../src/runner/run.js';

function plan(hold: Promise<void>, started: () => void): PlanNode[] {
  return [
    group('', 'a', (id) => [
      leaf(id, 'one', () => {}),
      leaf(id, 'slow', async () => { started(); await hold; }),
      skipped(id, 'gone', 'not here', ['host: a detail']),
      group(id, 'inner', (gid) => [leaf(gid, 'x', () => {}), leaf(gid, 'y', () => {})]),
    ]),
    leaf('', 'last', () => {}),
    skipped('', 'never', 'not on this host'),
  ];
}

t.test('a stop between cases: the rest is reported not run, every plan holds', async (t) => {
  let out = '';
  let stop: string | null = null;
  let release!: () => void;
  const hold = new Promise<void>((r) => { release = r; });
  const h = startPlan(plan(hold, () => { stop = 'interrupted by SIGTERM'; release(); }), new KtapReporter((s) => { out += s; }), { stopRequested: () => stop });
  const s = await h.done;
  t.equal(s.bailedOut, 'interrupted by SIGTERM');
  const doc = readKtap(out);
  t.same(doc.problems, [], 'plans and numbering hold');
  const all = Object.fromEntries(walkTests(doc.tests).map(({ id, test }) => [id, `${test.ok ? 'ok' : 'not ok'} ${test.directive ?? ''} ${test.reason}`.trim()]));
  t.same(all, {
    'a': 'not ok',
    'a.one': 'ok',
    'a.slow': 'ok',
    'a.gone': 'ok SKIP not here',
    'a.inner': 'not ok',
    'a.inner.x': 'not ok ERROR not run: interrupted',
    'a.inner.y': 'not ok ERROR not run: interrupted',
    'last': 'not ok ERROR not run: interrupted',
    'never': 'ok SKIP not on this host',
  });
  t.match(out, /# interrupted by SIGTERM: the cases from here on did not start\n {4}not ok 1 x # ERROR not run: interrupted/);
  t.match(out, /# interrupted by SIGTERM: 3 case\(s\) reported ERROR not run: interrupted\n# Totals: pass:2 fail:0 xfail:0 xpass:0 skip:2 error:3\n$/);
  t.notMatch(out, /Bail out/);
});

t.test('abortNow while a case runs: it is reported interrupted, the rest not run, at once', async (t) => {
  for (const Reporter of [KtapReporter, FlatKtapReporter]) {
    let out = '';
    let started!: () => void;
    const running = new Promise<void>((r) => { started = r; });
    const never = new Promise<void>(() => {});
    const h = startPlan(plan(never, () => started()), new Reporter((s) => { out += s; }));
    await running;
    h.abortNow('interrupted by SIGTERM', 'interrupted by SIGTERM, then SIGTERM again: this case did not finish');
    const doc = readKtap(out);
    t.same(doc.problems, [], `${Reporter.name}: a complete document`);
    const slow = walkTests(doc.tests).find(({ id }) => id.endsWith('slow'))!.test;
    t.equal(slow.directive, 'ERROR');
    t.equal(slow.reason, 'interrupted');
    t.match(out, /this case did not finish/);
    t.match(out, /# Totals: pass:1 fail:0 xfail:0 xpass:0 skip:2 error:4\n$/, `${Reporter.name}: Totals count the cut case and the 3 not run`);
    const len = out.length;
    h.abortNow('again', 'again');
    t.equal(out.length, len, 'a second abort writes nothing');
  }
});

t.test('abortNow, then the cut case ends after all: the walk unwinds without writing', async (t) => {
  // Two signals at once: the first asks for a stop, the second closes the output while the
  // case still runs; when that case returns, nothing may follow the closed document.
  let out = '';
  let stop: string | null = null;
  let started!: () => void;
  let release!: () => void;
  const running = new Promise<void>((r) => { started = r; });
  const hold = new Promise<void>((r) => { release = r; });
  const h = startPlan(plan(hold, () => started()), new KtapReporter((s) => { out += s; }), { stopRequested: () => stop });
  await running;
  stop = 'interrupted by SIGTERM';
  h.abortNow(stop, 'interrupted by SIGTERM, then SIGTERM again: this case did not finish');
  const closed = out;
  release();
  await h.done;
  t.equal(out, closed, 'nothing after the closed document');
  t.same(readKtap(out).problems, []);
  t.equal(out.match(/^# Totals/gm)?.length, 1, 'one Totals line');
});

t.test('abortNow after the end writes nothing', async (t) => {
  let out = '';
  const h = startPlan([leaf('', 'a', () => {})], new KtapReporter((s) => { out += s; }));
  await h.done;
  const len = out.length;
  h.abortNow('late', 'late');
  t.equal(out.length, len);
});
