// Hostile environments and input: an unprivileged user, a tiny open-file limit, signals.
import { spawn, spawnSync } from 'node:child_process';
import t from 'tap';
import { parseKtap } from '../helpers/ktap.js';
import { asUser, BIN, cleanEnv, kvmUnavailable } from '../helpers/kvm.js';

const skip = kvmUnavailable();
const isRoot = process.getuid?.() === 0;

function sh(script: string): { status: number | null; signal: string | null; stdout: string; stderr: string } {
  const r = spawnSync(...asUser('/bin/sh', ['-c', script, 'sh', BIN]), { encoding: 'utf8', env: cleanEnv(), timeout: 60_000 });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

t.test('a user without permission on the device: exit 4, SKIP naming the cause',
  { skip: !isRoot ? 'needs root to switch to an unprivileged user' : skip ?? false }, async (t) => {
    const r = spawnSync(...asUser('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', BIN]),
      { encoding: 'utf8', env: cleanEnv() });
    t.equal(r.status, 4, r.stderr);
    t.equal(r.stdout, 'KTAP version 1\n1..0 # SKIP cannot open /dev/kvm: EACCES (permission denied)\n');
  });

t.test('ulimit -n 16: the launcher answers in valid KTAP, no crash', async (t) => {
  const r = sh('ulimit -n 16 && exec "$1"');
  t.equal(r.signal, null, 'not killed by a signal');
  t.equal(r.status, 1);
  t.match(r.stdout, /^KTAP version 1\nBail out! open-file limit \(ulimit -n\) is 16/);
  t.equal(parseKtap(r.stdout).bailout !== false, true, 'tap-parser sees the bail out');
  t.match(r.stderr, /^gmemtest: /);
});

t.test('ulimit -n 32: the cases that cannot get fds fail saying EMFILE; valid KTAP, no crash',
  { skip: skip ?? false }, async (t) => {
    const r = sh('ulimit -n 32 && exec "$1"');
    t.equal(r.signal, null, 'not killed by a signal');
    t.equal(r.status, 1);
    t.match(r.stdout, /^KTAP version 1\n/);
    t.match(r.stdout, /EMFILE/, 'the cause is named');
    const k = parseKtap(r.stdout);
    t.same(k.extra, [], 'no stray lines');
    t.same(k.failures.filter((f) => (f as { tapError?: unknown }).tapError), [], 'no parse errors');
    t.match(r.stdout, /^# Totals: /m, 'the run reached its end');
  });

t.test('SIGTERM mid-run: the run stops with Bail out!, Totals, exit 1, valid KTAP', { skip: skip ?? false }, async (t) => {
  const child = spawn(...asUser(BIN, ['--repeat', '50']), { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => { child.kill('SIGKILL'); }); // a regression must fail the test, not hang it
  let out = '';
  let sent = false;
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    if (!sent && /^ +ok \d+ /m.test(out)) { sent = true; child.kill('SIGTERM'); }
  });
  const [code, signal] = await new Promise<[number | null, string | null]>((res) => child.on('close', (c, s) => res([c, s])));
  t.ok(sent, 'the signal was sent mid-run');
  t.equal(signal, null, 'gmemtest handled the signal itself');
  t.equal(code, 1);
  t.match(out, /^Bail out! interrupted by SIGTERM$/m);
  t.match(out, /^# Totals: pass:\d+ /m);
  const k = parseKtap(out);
  t.equal(k.bailout, 'interrupted by SIGTERM');
  t.same(k.extra, []);
});
