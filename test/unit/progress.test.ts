// Progress on stderr (src/cli/progress.ts): the event lines a watched gmemtest writes, the
// reporter that writes them, and the status line a terminal gets; nothing without a TTY.
import t from 'tap';
import { parseProgress, progressLine, progressLinesWanted, StatusLine, withProgressLines } from '../../src/cli/progress.js';
import { group, leaf } from '../../src/runner/plan.js';
import type { Reporter } from '../../src/runner/reporter.js';
import { runPlan } from '../../src/runner/run.js';

t.test('event lines round-trip, also inside a console line; others are not events', async (t) => {
  for (const e of [{ phase: 'running', n: 3, m: 49 }, { phase: 'booting' }, { phase: 'done', detail: 'exit 0; pass:44' }] as const) {
    t.same(parseProgress(progressLine(e).trimEnd()), e, progressLine(e).trimEnd());
    t.same(parseProgress(`[   12.3] ${progressLine(e)}`), e, 'after a console prefix');
  }
  t.equal(parseProgress('gmemtest: progress dancing 1/2'), null, 'an unknown phase');
  t.equal(parseProgress('ok 1 gmemtest: progress'), null);
  t.equal(progressLinesWanted({ GMEMTEST_PROGRESS: '1' }), true);
  t.equal(progressLinesWanted({}), false);
});

t.test('the reporter: everything passed on, a running line per case at most every interval, the last always', async (t) => {
  const calls: string[] = [];
  const inner: Reporter = {
    begin: () => calls.push('begin'), enterGroup: (n) => calls.push(`enter ${n.id}`),
    result: (n) => calls.push(`result ${n.id}`), end: () => calls.push('end'),
  };
  const lines: string[] = [];
  let clock = 0;
  const nop = (): void => { clock += 100; };
  const plan = [group('', 'g', (id) => [leaf(id, 'a', nop), leaf(id, 'b', nop), leaf(id, 'c', nop)]), leaf('', 'd', nop)];
  await runPlan(plan, withProgressLines(inner, (l) => lines.push(l), 250, () => clock));
  t.same(calls, ['begin', 'enter g', 'result g.a', 'result g.b', 'result g.c', 'result g', 'result d', 'end']);
  t.same(lines, ['gmemtest: progress running 0/4\n', 'gmemtest: progress running 3/4\n', 'gmemtest: progress running 4/4\n',
    'gmemtest: progress done 4/4\n']);
});

t.test('a status line on a terminal: rewritten in place, left with its result; nothing elsewhere', async (t) => {
  let out = '';
  let clock = 0;
  const tty = { isTTY: true, write: (s: string) => { out += s; } };
  const s = new StatusLine('gmemtest boot 7.2.13', tty, () => clock);
  s.update({ phase: 'booting' });
  clock = 12_400;
  s.update({ phase: 'running', n: 3, m: 49 });
  s.clear();
  t.ok(out.endsWith('12 s\r\x1b[K'), 'clear() erases the line for other output');
  s.done('exit 0');
  s.update({ phase: 'running', n: 4, m: 49 });
  t.same(out.split('\r\x1b[K').filter(Boolean), [
    'gmemtest boot 7.2.13: preparing, 0 s', 'gmemtest boot 7.2.13: booting, 0 s',
    'gmemtest boot 7.2.13: running: case 3 of 49, 12 s', 'gmemtest boot 7.2.13: done (exit 0), 12 s\n',
  ]);
  let piped = '';
  const p = new StatusLine('x', { isTTY: false, write: (x: string) => { piped += x; } });
  p.update({ phase: 'booting' });
  p.done('exit 0');
  t.equal(piped, '', 'not a terminal: nothing');
  t.equal(p.active, false);
});
