// src/ktap/reader.ts against tap-parser (the independent reading of the same documents)
// and against malformed documents it must flag.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { classifyLine, readKtap, walkTests } from '../../src/ktap/reader.js';
import { ids, parseKtap, type KtapNode } from '../helpers/ktap.js';

const golden = (f: string): string => readFileSync(new URL(`../../fixtures/golden/${f}`, import.meta.url), 'utf8');

function statuses(nodes: readonly KtapNode[], prefix = ''): string[] {
  return nodes.flatMap((n) => {
    const id = prefix ? `${prefix}.${n.name}` : n.name;
    return [`${id} ${n.ok ? 'ok' : 'not ok'} ${n.directive ?? ''}`.trim(), ...statuses(n.children, id)];
  });
}

for (const f of ['sample.ktap', 'boot-nested.ktap', 'boot-failure.ktap']) {
  t.test(`${f}: the same tree as tap-parser reads`, async (t) => {
    const text = golden(f);
    const doc = readKtap(text);
    const tp = parseKtap(text);
    t.same(doc.problems, [], 'well formed');
    t.same(walkTests(doc.tests).map((x) => x.id), ids(tp.tree), 'ids');
    t.same(walkTests(doc.tests).map(({ id, test }) => `${id} ${test.ok ? 'ok' : 'not ok'} ${test.directive ?? ''}`.trim()),
      statuses(tp.tree), 'statuses and directives');
    t.same(doc.totals, tp.totals, 'Totals');
  });
}

t.test('diagnostics attach to the result that follows them; header lines are the run\'s', async (t) => {
  const doc = readKtap(['KTAP version 1', '# host: x', '1..2', '# check: it', '# got: 1', 'not ok 1 a',
    '  KTAP version 1', '  # Subtest: g', '  1..1', '  # inner', '  ok 1 c # SKIP why', '# closing', 'ok 2 g', ''].join('\n'));
  t.same(doc.problems, []);
  t.same(doc.header, ['host: x']);
  t.same(doc.tests[0]!.diagnostics, ['check: it', 'got: 1']);
  t.same(doc.tests[1]!.diagnostics, ['closing']);
  t.same(doc.tests[1]!.children[0]!.diagnostics, ['inner']);
  t.equal(doc.tests[1]!.children[0]!.directive, 'SKIP');
  t.equal(doc.tests[1]!.children[0]!.reason, 'why');
  t.equal(doc.tests[1]!.plan, 1);
});

t.test('skip-all, bail-out and Totals are recognised', async (t) => {
  const skip = readKtap('KTAP version 1\n1..0 # SKIP no device\n');
  t.equal(skip.skipAll, 'no device');
  t.same(skip.problems, []);
  const bail = readKtap('KTAP version 1\n1..3\n  KTAP version 1\n  # Subtest: a\n  1..2\n  ok 1 x\nBail out! interrupted by SIGTERM\n# Totals: pass:1 fail:0 xfail:0 xpass:0 skip:0 error:0\n');
  t.equal(bail.bailOut, 'interrupted by SIGTERM');
  t.same(bail.totals, { pass: 1, fail: 0, xfail: 0, xpass: 0, skip: 0, error: 0 });
  t.same(bail.problems, [], 'a bailed-out document may leave plans open');
});

t.test('malformed documents are flagged, never thrown', async (t) => {
  t.match(readKtap('ok 1 a\n').problems, [/does not start with a KTAP version line/]);
  t.match(readKtap('KTAP version 1\n1..2\nok 1 a\n').problems, [/plan 1..2 but 1 results/]);
  t.match(readKtap('KTAP version 1\n1..2\nok 1 a\nok 3 b\n').problems, [/result 3 after 1 results/]);
  t.match(readKtap('KTAP version 1\n1..1\ngarbage\nok 1 a\n').problems, [/not a KTAP line: garbage/]);
  t.match(readKtap('KTAP version 1\n1..1\n   ok 1 a\n').problems.join(), /not a KTAP line/);
  t.match(readKtap('KTAP version 1\n1..1\n  KTAP version 1\n  1..1\n  ok 1 x\n').problems.join(), /no result line|plan 1..1 but 0/);
});

t.test('line classification', async (t) => {
  t.match(classifyLine('  not ok 3 fault_private # TIMEOUT probe'), { kind: 'result', depth: 1, ok: false, number: 3, name: 'fault_private', directive: 'TIMEOUT', reason: 'probe' });
  t.match(classifyLine('ok 2 - named'), { kind: 'result', name: 'named', directive: null });
  t.match(classifyLine('    # Subtest: flags-none'), { kind: 'subtest', depth: 2, name: 'flags-none' });
  t.match(classifyLine('#'), { kind: 'diagnostic', text: '' });
  t.match(classifyLine('TAP version 14'), { kind: 'version', version: 14 });
});
