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
    t.match(r.stdout, /^KTAP version 1\n# gmemtest .*\n1\.\.1\n# cannot open \/dev\/kvm: EACCES \(permission denied\)\nok 1 gmemtest # SKIP no permission on the KVM device\n# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:1 error:0\n$/);
  });

t.test('ulimit -n 16: the launcher answers in valid KTAP, no crash', async (t) => {
  const r = sh('ulimit -n 16 && exec "$1"');
  t.equal(r.signal, null, 'not killed by a signal');
  t.equal(r.status, 1);
  t.equal(r.stdout, 'KTAP version 1\n1..1\n# open-file limit (ulimit -n) is 16: gmemtest needs at least 32\n' +
    'not ok 1 gmemtest # ERROR open-file limit too low\n# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:0 error:1\n');
  const k = parseKtap(r.stdout);
  t.equal(k.bailout, false, 'no bail-out: one failed test');
  t.equal(k.tree.length, 1);
  t.match(r.stderr, /^gmemtest: /);
});

t.test('ulimit -n 32, the launcher\'s minimum: the whole run fits (no Node child, a few fds a helper); valid KTAP',
  { skip: skip ?? false }, async (t) => {
    const r = sh('ulimit -n 32 && exec "$1"');
    t.equal(r.signal, null, 'not killed by a signal');
    t.ok(r.status === 0 || r.status === 1, `exit ${r.status}: a verdict, not a crash`);
    t.notMatch(r.stdout, /EMFILE|# ERROR/, 'no case ran out of fds');
    const k = parseKtap(r.stdout);
    t.same(k.extra, [], 'no stray lines');
    t.same(k.failures.filter((f) => (f as { tapError?: unknown }).tapError), [], 'no parse errors');
    t.match(r.stdout, /^# Totals: /m, 'the run reached its end');
  });

t.test('SIGTERM mid-run: the run stops, the cases not reached are reported not run, Totals, exit 1, valid KTAP', { skip: skip ?? false }, async (t) => {
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
  t.match(out, /^# interrupted by SIGTERM: \d+ case\(s\) reported ERROR not run: interrupted\n# Totals: pass:\d+ .*\n$/m);
  t.notMatch(out, /Bail out/);
  const k = parseKtap(out);
  t.equal(k.bailout, false);
  t.same(k.extra, []);
  t.same(k.failures.filter((f) => (f as { tapError?: unknown }).tapError), [], 'every plan holds');
});
