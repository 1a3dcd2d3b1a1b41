// The fault probe on an ordinary file (no /dev/kvm needed): past EOF a shared mapping
// raises SIGBUS, inside it nothing faults. Each way a probe can go wrong must come out
// as a failed check with a diagnostic, and no child may be left behind.
import { closeSync, ftruncateSync, openSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { killAllChildren, liveChildren, trackChild } from '../../src/kvm/children.js';
import { onProbeDone, runFaultProbe, type ProbeSpec } from '../../src/kvm/fault-probe.js';
import { GuestMemfd } from '../../src/kvm/guest-memfd.js';
import { CaseTimeout, CheckFailure } from '../../src/tests/check.js';
import { expectSigbus, faultSigbus } from '../../src/tests/fault.js';
import { spawn } from 'node:child_process';

const PAGE = 4096;

function tmpFile(size: number): number {
  const path = join(tmpdir(), `gmemtest-probe-${process.pid}-${Math.random().toString(16).slice(2)}`);
  const fd = openSync(path, 'w+');
  ftruncateSync(fd, size);
  unlinkSync(path);
  return fd;
}

const fd = tmpFile(PAGE * 4);
t.teardown(() => closeSync(fd));

function failureOf(fn: () => void): string[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof CheckFailure) return [...e.diagnostics];
    throw e;
  }
  return [];
}

t.test('a store past EOF dies of SIGBUS at the access', async (t) => {
  const spec: ProbeSpec = { op: 'fill', mapSize: PAGE * 8, offset: 0, length: PAGE * 8, value: 0xaa };
  const o = await runFaultProbe(fd, spec);
  t.equal(o.status, 'sigbus');
  t.equal(o.signal, 'SIGBUS');
  t.ok(o.armed, 'the child reached the access');
  t.same(failureOf(() => expectSigbus(spec, o, 'memset faults')), [], 'the check passes');
  t.comment(`SIGBUS child: ${o.durationMs.toFixed(1)} ms from spawn to exit`);
});

t.test('a SIGBUS that happened while this thread was busy past the timeout is still a SIGBUS', async (t) => {
  const spec: ProbeSpec = { op: 'read', mapSize: PAGE * 8, offset: PAGE * 6, length: 1 };
  const pending = runFaultProbe(fd, spec, { timeoutMs: 300 });
  const until = Date.now() + 1500; // the child dies of SIGBUS meanwhile; the timer fires late
  while (Date.now() < until) { /* busy, as a long synchronous case keeps the runner */ }
  const o = await pending;
  t.equal(o.status, 'sigbus');
  t.equal(o.armed, true);
});

t.test('a child that finished by itself while this thread was busy past the timeout did not time out', async (t) => {
  const spec: ProbeSpec = { op: 'read', mapSize: PAGE * 4, offset: 0, length: PAGE };
  const pending = runFaultProbe(fd, spec, { timeoutMs: 300 });
  const until = Date.now() + 1500; // the child reads, prints done and exits meanwhile; the timer fires late
  while (Date.now() < until) { /* busy */ }
  const o = await pending;
  t.equal(o.status, 'exited', 'what the child did, not a timeout');
  t.equal(o.code, 0);
  t.equal(o.armed, true);
});

t.test('a probe that does not fault is a failure', async (t) => {
  const spec: ProbeSpec = { op: 'read', mapSize: PAGE * 4, offset: 0, length: PAGE * 4 };
  const o = await runFaultProbe(fd, spec);
  t.equal(o.status, 'exited');
  t.equal(o.code, 0);
  const d = failureOf(() => expectSigbus(spec, o, 'a read faults'));
  t.match(d.join('\n'), /check: a read faults[\s\S]*expected: the access raises SIGBUS[\s\S]*exited with code 0/);
});

t.test('a probe killed by another signal is a failure', async (t) => {
  const spec: ProbeSpec = { op: 'read', mapSize: PAGE, offset: 0, length: 1 };
  const o = await runFaultProbe(fd, spec, { onSpawn: (c) => c.kill('SIGKILL') });
  t.equal(o.status, 'signal');
  t.equal(o.signal, 'SIGKILL');
  const d = failureOf(() => expectSigbus(spec, o, 'the read faults'));
  t.match(d.join('\n'), /killed by SIGKILL/);
});

t.test('a probe that hangs is killed after the timeout and reported', async (t) => {
  const spec: ProbeSpec = { op: 'read', mapSize: PAGE, offset: 0, length: 1 };
  const o = await runFaultProbe(fd, spec, { timeoutMs: 1 });
  t.equal(o.status, 'timeout');
  t.equal(o.signal, 'SIGKILL');
  let err: unknown;
  try { expectSigbus(spec, o, 'the read faults'); } catch (e) { err = e; }
  t.type(err, CaseTimeout, 'a hung probe is a TIMEOUT, not a plain failure');
  t.match((err as CaseTimeout).diagnostics.join('\n'), /did not finish within/);
});

t.test('a child that cannot map is a failure naming its error', async (t) => {
  const spec: ProbeSpec = { op: 'read', mapSize: PAGE, offset: PAGE, length: 1 };
  const o = await runFaultProbe(fd, spec);
  t.equal(o.status, 'exited');
  t.equal(o.code, 2);
  t.notOk(o.armed);
  t.match(failureOf(() => expectSigbus(spec, o, 'x')).join('\n'), /child stderr: fault-probe-child: range/);
});

t.test('test_fault_sigbus logic on a file: overflow passes, "private" does not fault', async (t) => {
  const seen: string[] = [];
  const off = onProbeDone((s, o) => { seen.push(`${s.op}@${s.offset}:${o.status}`); });
  t.teardown(off);
  // A GuestMemfd object over an ordinary file: only fd and mmap are used.
  const file = new GuestMemfd(tmpFile(PAGE * 4), PAGE * 4, 0n);
  t.teardown(() => file.close());
  await faultSigbus(file, PAGE * 4, PAGE * 16);
  t.same(seen.sort(), [`fill@0:sigbus`, `read@${PAGE * 4}:sigbus`], 'two probes, both SIGBUS');
  // Inside the file nothing faults: the memset probe exits 0 and the case fails on it.
  await t.rejects(faultSigbus(file, 0, PAGE * 4), /memset of 0x4000 bytes raises SIGBUS/);
});

t.test('killAllChildren ends every tracked child', async (t) => {
  const c = trackChild(spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' }));
  t.equal(liveChildren(), 1);
  const gone = new Promise<NodeJS.Signals | null>((r) => c.once('exit', (_code, sig) => r(sig)));
  t.equal(killAllChildren(), 1);
  t.equal(await gone, 'SIGKILL');
});

t.test('no probe child is left', async (t) => {
  t.equal(liveChildren(), 0);
});
