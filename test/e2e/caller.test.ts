// gmemtest ends with its caller: killed with npx (npm does not pass the signal on), or left
// by a parent that was SIGKILLed, it stops as on SIGTERM: every plan closed, Totals, no
// gmemtest or access helper left behind, within a second.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { readKtap } from '../../src/ktap/reader.js';
import { BIN, cleanEnv, kvmUnavailable } from '../helpers/kvm.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const skip = kvmUnavailable();

/** Processes whose command line runs this checkout's gmemtest, or an access helper. */
function ours(): { pid: number; cmd: string }[] {
  const out: { pid: number; cmd: string }[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    let cmd = '';
    try { cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ').trim(); } catch { continue; }
    // The launcher runs `node <checkout>/bin/../dist/bundle/gmemtest.mjs`.
    const gmemtest = cmd.includes(ROOT.replace(/\/$/, '')) && /dist\/(bundle\/gmemtest\.mjs|cli\/main\.js)/.test(cmd);
    if (gmemtest || /^gmem-access \d+/.test(cmd)) out.push({ pid: Number(d), cmd });
  }
  return out;
}

async function gone(within: number): Promise<{ ms: number; left: { pid: number; cmd: string }[] }> {
  const t0 = performance.now();
  for (;;) {
    const left = ours();
    const ms = performance.now() - t0;
    if (left.length === 0 || ms > within) return { ms, left };
    await new Promise((r) => setTimeout(r, 20));
  }
}

t.test('npx gmemtest killed with SIGTERM: gmemtest stops too, its KTAP whole', { skip: skip ?? false }, async (t) => {
  t.same(ours(), [], 'nothing of ours runs before');
  const npx = spawn('npx', ['gmemtest', '--repeat', '50'], { cwd: ROOT, env: cleanEnv(), stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  let killedAt = 0;
  const closed = new Promise<void>((res) => npx.stdout.on('close', () => res()));
  npx.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    if (killedAt === 0 && /^ +ok \d+ /m.test(out)) { killedAt = performance.now(); t.ok(ours().length > 0, 'gmemtest runs'); npx.kill('SIGTERM'); }
  });
  await new Promise<void>((res) => npx.on('exit', () => res()));
  t.ok(killedAt > 0, 'npx was killed mid-run');
  const g = await gone(5000);
  t.same(g.left, [], 'no gmemtest, no access helper left');
  t.ok(g.ms < 1000, `gone ${Math.round(g.ms)} ms after npx exited (at most a second)`);
  await closed; // gmemtest held the pipe until it exited
  const doc = readKtap(out);
  t.same(doc.problems, [], 'the KTAP is whole');
  t.match(out, /^# interrupted: its caller \S+ \(pid \d+\) exited: \d+ case\(s\) reported ERROR not run: interrupted$/m);
  t.match(out, /# Totals: pass:\d+ /);
});

t.test('a parent SIGKILLed: gmemtest stops, its KTAP whole', { skip: skip ?? false }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gmemtest-caller-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'out.ktap');
  // A shell that waits on gmemtest (it does not exec it), as a CI step's shell does.
  const sh = spawn('/bin/sh', ['-c', `"$0" --repeat 50 > '${file}'; echo done`, BIN], { env: cleanEnv(), stdio: 'ignore' });
  const t0 = performance.now();
  while (!(existsSync(file) && /^ +ok \d+ /m.test(readFileSync(file, 'utf8'))) && performance.now() - t0 < 30_000) {
    await new Promise((r) => setTimeout(r, 20));
  }
  t.ok(ours().length > 0, 'gmemtest runs');
  sh.kill('SIGKILL');
  await new Promise<void>((res) => sh.on('exit', () => res()));
  const g = await gone(5000);
  t.same(g.left, [], 'no gmemtest, no access helper left');
  t.ok(g.ms < 1000, `gone ${Math.round(g.ms)} ms after its parent was killed`);
  const text = readFileSync(file, 'utf8');
  t.same(readKtap(text).problems, [], 'the KTAP is whole');
  t.match(text, /^# interrupted: its caller sh \(pid \d+\) exited/m);
});
