// The cases' accesses through the access helper, on an ordinary file (no /dev/kvm needed):
// past EOF a shared mapping raises SIGBUS, inside it nothing faults. Each way an access
// can end must come out as the right verdict with a diagnostic naming the access, and no
// helper may be left behind.
import { closeSync, ftruncateSync, openSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { accessed, expectBytes, expectSigbusOn, kvmMmapIn, kvmMunmapIn } from '../../src/cases/kvm-util.js';
import { faultSigbus } from '../../src/cases/fault-sigbus.js';
import { liveAccessHelpers } from '../../src/isolate/access-helper.js';
import { RemoteMm, type Access } from '../../src/isolate/remote-mm.js';
import { GuestMemfd } from '../../src/kvm/guest-memfd.js';
import { libc } from '../../src/kvm/libc.js';
import { CaseTimeout, CheckFailure } from '../../src/runner/outcome.js';

const PAGE = 4096;

function tmpFile(size: number): number {
  const path = join(tmpdir(), `gmemtest-access-${process.pid}-${Math.random().toString(16).slice(2)}`);
  const fd = openSync(path, 'w+');
  ftruncateSync(fd, size);
  unlinkSync(path);
  return fd;
}

const fd = tmpFile(PAGE * 4);
t.teardown(() => closeSync(fd));

function failureOf(fn: () => void): { kind: string; lines: string[] } {
  try {
    fn();
  } catch (e) {
    if (e instanceof CheckFailure) return { kind: 'fail', lines: [...e.diagnostics] };
    if (e instanceof CaseTimeout) return { kind: 'timeout', lines: [e.message, ...e.diagnostics] };
    throw e;
  }
  return { kind: 'pass', lines: [] };
}

t.test('a store past EOF dies of SIGBUS at the access, named by offset', async (t) => {
  using mm = RemoteMm.start(fd);
  const m = kvmMmapIn(mm, PAGE * 8);
  const t0 = performance.now();
  const a = mm.fill(m.addr, PAGE * 8, 0xaa);
  t.comment(`SIGBUS through the access helper: ${(performance.now() - t0).toFixed(2)} ms for the access`);
  t.equal(a.ok, false);
  t.same(failureOf(() => expectSigbusOn(m, a, 'memset faults', 'memset')), { kind: 'pass', lines: [] }, 'the check passes');
  const must = failureOf(() => accessed(m, a, 'memset of the mapping'));
  t.equal(must.kind, 'fail', 'an access that must complete and faults is a failed check');
  t.match(must.lines, ['check: memset of the mapping', 'expected: the access completes', /^got: SIGBUS at offset 0x4000 of the mapping/]);
  t.ok(mm.ended, 'the helper is gone with its SIGBUS');
});

t.test('an access that completes where SIGBUS is expected says so', async (t) => {
  using mm = RemoteMm.start(fd);
  const m = kvmMmapIn(mm, PAGE * 4);
  const a = mm.fill(m.addr, PAGE * 4, 0x11);
  t.equal(a.ok, true);
  t.same(failureOf(() => expectSigbusOn(m, a, 'a store faults', 'memset')).lines,
    ['check: a store faults', 'expected: SIGBUS', 'got: the memset completed']);
  expectBytes(accessed(m, mm.load(m.addr, PAGE * 4), 'read back'), 0, 0x11, 'the bytes are the file\'s');
  kvmMunmapIn(m);
});

t.test('a helper killed by another signal before the access is not a SIGBUS', async (t) => {
  using mm = RemoteMm.start(fd);
  const m = kvmMmapIn(mm, PAGE);
  libc.kill(mm.pid, 9);
  const a = mm.load(m.addr, 1);
  const f = failureOf(() => expectSigbusOn(m, a, 'the read faults', 'read'));
  t.equal(f.kind, 'fail');
  t.match(f.lines.join('\n'), /expected: SIGBUS[\s\S]*killed by SIGKILL/);
});

t.test('an access that does not answer is a TIMEOUT, not a failed check', async (t) => {
  const m = { mm: undefined as unknown as RemoteMm, addr: 0x1000, length: PAGE };
  const a: Access = {
    ok: false, lines: ['helper: LOAD [0x1000, +0x1)', 'helper: still running after 10 ms while performing it; SIGKILLed, killed by SIGKILL'],
    failure: { status: 'timeout', command: { op: 3, args: [0x1000, 1] }, armed: true, end: { kind: 'signaled', signal: 9, signalName: 'SIGKILL' }, limitMs: 10, ms: 11 },
  };
  const f = failureOf(() => accessed(m, a, 'the read'));
  t.equal(f.kind, 'timeout');
  t.match(f.lines, ['access did not finish: the read', 'got: no answer within 10 ms', /LOAD/, /still running/]);
  t.equal(failureOf(() => expectSigbusOn(m, a, 'the read faults', 'read')).kind, 'timeout');
});

t.test('test_fault_sigbus on a file: past-EOF faults pass; memory that does not fault fails', async (t) => {
  // A GuestMemfd object over an ordinary file: only its fd is used.
  const file = new GuestMemfd(tmpFile(PAGE * 4), PAGE * 4, 0n);
  t.teardown(() => file.close());
  faultSigbus(file, PAGE * 4, PAGE * 16);
  t.pass('overflow: both accesses SIGBUS, the bytes before the fault hold 0xaa');
  t.throws(() => faultSigbus(file, 0, PAGE * 4), /memset of 0x4000 bytes raises SIGBUS/);
});

t.test('no access helper is left', async (t) => {
  t.equal(liveAccessHelpers(), 0);
});
