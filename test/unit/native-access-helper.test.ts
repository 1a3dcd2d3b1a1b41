// The access helper: its program (readelf/objdump), and the client on the real /dev/kvm:
// a round trip through a shared guest_memfd, SIGBUS on a private one and SIGSEGV on an
// unmapped address reported with the op and the address, time limits that SIGKILL and
// reap, no fd or process left behind, and PR_SET_PDEATHSIG.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import tap from 'tap';

const t = tap;
import {
  AccessHelper, AccessHelperStartError, describeOutcome, helperExecutable, liveAccessHelpers, type OpOutcome,
} from '../../src/isolate/access-helper.js';
import { Kvm } from '../../src/kvm/kvm.js';
import { GUEST_MEMFD_FLAG_INIT_SHARED, GUEST_MEMFD_FLAG_MMAP } from '../../src/kvm/uapi/kvm.js';
import { HelperExit, Op } from '../../src/native/access-protocol.js';
import { x86_64AccessHelper } from '../../src/native/x86_64/access-helper.js';
import { kvmUnavailable } from '../helpers/kvm.js';

const PAGE = 4096;
const SYS = { mmap: 9, munmap: 11, pause: 34, getpid: 39, getppid: 110 } as const;
const PROT_RW = 3;
const MAP_SHARED = 1;
const MAP_PRIVATE = 2;
const MAP_ANONYMOUS = 0x20;
const isX64 = process.platform === 'linux' && process.arch === 'x64';
const noKvm = isX64 ? kvmUnavailable() ?? false : 'the access helper is x86_64 code';

function ok(t: Pick<typeof tap, 'pass' | 'fail'>, o: OpOutcome, what: string): number {
  if (o.status !== 'ok') {
    t.fail(what, { diagnostics: describeOutcome(o) });
    return -1;
  }
  t.pass(what);
  return o.ret;
}

function fdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

/** Gone, or a zombie nobody has reaped yet (not running, not ours). */
function dead(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return / [ZX] /.test(stat.slice(stat.lastIndexOf(')')));
  } catch {
    return true;
  }
}

t.test('program: a small static executable; objdump names its parts', { skip: isX64 ? false : 'x86_64' }, async (t) => {
  const p = x86_64AccessHelper();
  t.ok(p.elf.length < 4096, `ELF of ${p.elf.length} bytes`);
  t.equal(p.image.type, 'EXEC');
  t.same(p.image.segments.map((s) => `${s.type} ${s.flags}`), ['LOAD RX', 'LOAD RW', 'GNU_STACK RW']);
  t.ok(p.bufferAddr >= p.image.segments[1]!.vaddr && p.bufferAddr + p.bufferSize <= p.image.segments[1]!.vaddr + p.image.segments[1]!.memsz,
    'the data buffer is inside the bss');
  const dir = mkdtempSync(join(tmpdir(), 'gmemtest-helper-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'gmem-access'), p.elf);
  const r = spawnSync('objdump', ['-d', join(dir, 'gmem-access')], { encoding: 'utf8' });
  if (r.error) {
    t.comment('objdump not installed: disassembly not checked');
    return;
  }
  for (const name of ['_start', 'loop', 'op_syscall', 'op_fill', 'op_load', 'on_fault', 'restorer']) {
    t.match(r.stdout, new RegExp(`<${name}>:`), `<${name}> in the disassembly`);
  }
  t.notMatch(r.stdout, /\(bad\)/, 'every byte decodes');
});

t.test('start-up: argv and the parent check', { skip: isX64 ? false : 'x86_64' }, async (t) => {
  const path = helperExecutable();
  for (const [argv, code, what] of [
    [['gmem-access'], HelperExit.USAGE, 'no pid argument'],
    [['gmem-access', 'x12'], HelperExit.USAGE, 'not a number'],
    [['gmem-access', '1'], HelperExit.ORPHANED, 'a parent pid that is not getppid()'],
  ] as const) {
    try {
      AccessHelper.spawn({ program: { path, argv: [...argv] } });
      t.fail(`${what}: started`);
    } catch (e) {
      t.type(e, AccessHelperStartError);
      t.same((e as AccessHelperStartError).end, { kind: 'exited', code }, `${what}: exit ${code}`);
    }
  }
});

t.test('round trip on a shared guest_memfd (MMAP | INIT_SHARED)', { skip: noKvm }, async (t) => {
  using kvm = Kvm.open();
  using vm = kvm.createVm(0);
  using gmem = vm.createGuestMemfd(PAGE * 4, GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED);
  using h = AccessHelper.spawn({ fd: gmem.fd });
  t.equal(ok(t, h.syscall(SYS.getppid), 'getppid'), process.pid, 'the helper is our child');
  const addr = ok(t, h.syscall(SYS.mmap, 0, PAGE * 4, PROT_RW, MAP_SHARED, 3, 0), 'mmap(MAP_SHARED) of fd 3');
  t.ok(addr > 0 && addr % PAGE === 0, 'a page-aligned address');
  ok(t, h.fill(addr, PAGE * 4, 0xaa), 'FILL');
  const l = h.load(addr, PAGE * 4);
  t.equal(l.status === 'ok' && l.data?.length, PAGE * 4, 'LOAD returns every byte');
  t.ok(l.status === 'ok' && l.data!.every((b) => b === 0xaa), 'LOAD reads back what FILL stored');
  ok(t, h.fill(addr + PAGE, 2, 0x01), 'FILL of two bytes');
  t.equal(ok(t, h.touch(addr, PAGE * 4, PAGE), 'TOUCH'), 0xaa * 3 + 0x01, 'TOUCH: one load per page, summed');
  const part = h.load(addr + PAGE, 4);
  t.same(part.status === 'ok' && [...part.data!], [0x01, 0x01, 0xaa, 0xaa], 'LOAD of a sub-range');
  // PUT/GET through the data buffer, and SYSCALL pointing into it.
  const msg = Buffer.from('guest_memfd');
  ok(t, h.put(8, msg), 'PUT');
  const g = h.get(8, msg.length);
  t.equal(g.status === 'ok' && g.data!.toString(), 'guest_memfd', 'GET returns what PUT stored');
  t.equal(ok(t, h.syscall(SYS.munmap, addr, PAGE * 4), 'munmap'), 0);
  const bad = h.syscall(SYS.munmap, addr + 1, PAGE);
  t.equal(bad.status === 'ok' && bad.ret, -22, 'a failing SYSCALL returns -errno');
  t.equal(bad.status === 'ok' && bad.errno, 22, 'and its errno');
  t.same(h.close(), { kind: 'exited', code: 0 }, 'EOF on the command pipe: exit 0');
});

t.test('large transfers: LOAD of 1 MiB and PUT/GET of the whole buffer (partial pipe reads and writes)', { skip: isX64 ? false : 'x86_64' }, async (t) => {
  using h = AccessHelper.spawn();
  const len = h.loadMax;
  const addr = ok(t, h.syscall(SYS.mmap, 0, len, PROT_RW, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), 'mmap anonymous');
  ok(t, h.fill(addr, len, 0x5c), 'FILL 1 MiB');
  const l = h.load(addr, len);
  t.ok(l.status === 'ok' && l.data!.length === len && l.data!.every((b) => b === 0x5c), 'LOAD of 1 MiB');
  const data = Buffer.alloc(h.bufferSize);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
  ok(t, h.put(0, data), 'PUT of the whole buffer');
  const g = h.get(0, h.bufferSize);
  t.ok(g.status === 'ok' && g.data!.equals(data), 'GET returns it');
  t.throws(() => h.put(h.bufferSize - 1, Buffer.alloc(2)), RangeError, 'PUT outside the buffer is refused before sending');
  t.throws(() => h.load(addr, len + 1), RangeError, 'LOAD above loadMax is refused');
  // A command the helper refuses: it exits PROTOCOL.
  const o = h.request(Op.TOUCH, [addr, 1, 0]);
  t.equal(o.status, 'died');
  t.same(o.status === 'died' && o.end, { kind: 'exited', code: HelperExit.PROTOCOL }, 'stride 0: protocol error exit');
});

t.test('SIGBUS on a private guest_memfd (MMAP without INIT_SHARED): during FILL, at the address', { skip: noKvm }, async (t) => {
  using kvm = Kvm.open();
  using vm = kvm.createVm(0);
  using gmem = vm.createGuestMemfd(PAGE * 4, GUEST_MEMFD_FLAG_MMAP);
  const h = AccessHelper.spawn({ fd: gmem.fd });
  const addr = ok(t, h.syscall(SYS.mmap, 0, PAGE * 4, PROT_RW, MAP_SHARED, 3, 0), 'mmap(MAP_SHARED) of fd 3');
  const o = h.fill(addr, PAGE * 4, 0xaa);
  t.equal(o.status, 'died', 'the helper died');
  if (o.status !== 'died') return;
  t.equal(o.command.op, Op.FILL, 'during FILL');
  t.ok(o.armed, 'after acknowledging it');
  t.same(o.end, { kind: 'signaled', signal: 7, signalName: 'SIGBUS' }, 'of SIGBUS');
  t.equal(o.fault?.signalName, 'SIGBUS');
  t.equal(o.fault?.addr, addr, 'at the first byte: private memory is never faulted in');
  t.equal(o.fault?.code, 2, 'si_code BUS_ADRERR');
  t.same(h.ended, o.end);
  t.throws(() => h.fill(addr, 1, 0), /already ended/);
  t.same(h.close(), o.end, 'close after death returns the same end');
  t.ok(dead(h.pid), 'reaped');
});

t.test('SIGBUS past the end of a shared guest_memfd (fault_overflow): at offset = file size', { skip: noKvm }, async (t) => {
  using kvm = Kvm.open();
  using vm = kvm.createVm(0);
  const size = PAGE * 4;
  using gmem = vm.createGuestMemfd(size, GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED);
  using h = AccessHelper.spawn({ fd: gmem.fd });
  const addr = ok(t, h.syscall(SYS.mmap, 0, size * 4, PROT_RW, MAP_SHARED, 3, 0), 'mmap of 4x the file');
  const o = h.fill(addr, size * 4, 0xaa);
  t.equal(o.status === 'died' && o.end.kind === 'signaled' && o.end.signalName, 'SIGBUS');
  t.equal(o.status === 'died' && o.fault!.addr - addr, size, 'the first byte past the file');
  // What the helper stored before it died is in the file: a second helper reads it back.
  using h2 = AccessHelper.spawn({ fd: gmem.fd });
  const a2 = ok(t, h2.syscall(SYS.mmap, 0, size, PROT_RW, MAP_SHARED, 3, 0), 'second helper maps the file');
  const l = h2.load(a2, size);
  t.ok(l.status === 'ok' && l.data!.every((b) => b === 0xaa), 'the bytes before the fault hold 0xaa');
});

t.test('SIGSEGV on an unmapped address: during LOAD, SEGV_MAPERR at that address', { skip: isX64 ? false : 'x86_64' }, async (t) => {
  const h = AccessHelper.spawn();
  const addr = ok(t, h.syscall(SYS.mmap, 0, PAGE, PROT_RW, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), 'mmap');
  ok(t, h.syscall(SYS.munmap, addr, PAGE), 'munmap');
  const o = h.load(addr + 0x10, 8);
  t.equal(o.status, 'died');
  if (o.status !== 'died') return;
  t.equal(o.command.op, Op.LOAD);
  t.same(o.end, { kind: 'signaled', signal: 11, signalName: 'SIGSEGV' });
  t.same(o.fault && { addr: o.fault.addr, code: o.fault.code }, { addr: addr + 0x10, code: 1 }, 'si_addr, SEGV_MAPERR');
  t.match(describeOutcome(o).join('\n'), /LOAD \[0x[0-9a-f]+, \+0x8\)\nhelper: killed by SIGSEGV while performing it.*\nhelper: SIGSEGV at 0x/);
});

t.test('a SIGBUS sent by another process is not a fault, and still kills', { skip: isX64 ? false : 'x86_64' }, async (t) => {
  const h = AccessHelper.spawn();
  process.kill(h.pid, 'SIGBUS');
  const o = h.syscall(SYS.getpid);
  t.equal(o.status, 'died');
  t.same(o.status === 'died' && o.end, { kind: 'signaled', signal: 7, signalName: 'SIGBUS' });
  t.equal(o.status === 'died' && o.fault?.code, 0, 'si_code SI_USER: sent, not a fault');
});

t.test('time limits: a hanging op, a helper that never acks, one that never starts', { skip: isX64 ? false : 'x86_64' }, async (t) => {
  {
    const h = AccessHelper.spawn({ opTimeoutMs: 200 });
    const t0 = performance.now();
    const o = h.syscall(SYS.pause);
    t.equal(o.status, 'timeout', 'pause() times out');
    t.ok(o.status === 'timeout' && o.armed, 'after its ACK: armed');
    t.same(o.status === 'timeout' && o.end, { kind: 'signaled', signal: 9, signalName: 'SIGKILL' }, 'SIGKILLed');
    t.ok(performance.now() - t0 < 2000, 'promptly');
    t.ok(dead(h.pid), 'and reaped');
  }
  {
    const h = AccessHelper.spawn({ startupTimeoutMs: 300, opTimeoutMs: 60_000 });
    process.kill(h.pid, 'SIGSTOP'); // alive, but never reads the command
    const o = h.syscall(SYS.getpid);
    t.equal(o.status, 'timeout', 'no ACK: times out on the ack limit');
    t.ok(o.status === 'timeout' && !o.armed && o.limitMs === 300, 'not armed, the start-up limit');
    t.ok(dead(h.pid), 'a stopped helper is killed and reaped too');
  }
  {
    const t0 = performance.now();
    try {
      AccessHelper.spawn({ startupTimeoutMs: 300, program: { path: '/bin/sleep', argv: ['sleep', '600'] } });
      t.fail('started');
    } catch (e) {
      t.type(e, AccessHelperStartError);
      t.match((e as Error).message, /did not start within 300 ms/);
      t.same((e as AccessHelperStartError).end, { kind: 'signaled', signal: 9, signalName: 'SIGKILL' });
    }
    t.ok(performance.now() - t0 < 3000, 'promptly');
  }
});

t.test('no fd and no process left behind', { skip: noKvm }, async (t) => {
  using kvm = Kvm.open();
  using vm = kvm.createVm(0);
  using gmem = vm.createGuestMemfd(PAGE * 4, GUEST_MEMFD_FLAG_MMAP);
  AccessHelper.spawn().close(); // the first spawn creates the executable's memfd, kept for the process
  const fds = fdCount();
  const pids: number[] = [];
  for (let i = 0; i < 20; i++) {
    const h = AccessHelper.spawn({ fd: gmem.fd });
    pids.push(h.pid);
    const addr = h.syscall(SYS.mmap, 0, PAGE, PROT_RW, MAP_SHARED, 3, 0);
    if (i % 2 === 0 && addr.status === 'ok') h.fill(addr.ret, 1, 1); // SIGBUS
    else h.close();
  }
  t.equal(fdCount(), fds, 'as many fds as before');
  t.equal(liveAccessHelpers(), 0, 'no live helper recorded');
  t.ok(pids.every(dead), 'every helper pid is gone');
});

t.test('libuv does not reap our helpers: its SIGCHLD handler runs while ours is a zombie', { skip: isX64 ? false : 'x86_64' }, async (t) => {
  for (let i = 0; i < 5; i++) {
    const h = AccessHelper.spawn();
    process.kill(h.pid, 'SIGTERM'); // dies now; we do not reap it yet
    const c = spawn('/bin/true');
    await new Promise((r) => c.once('exit', r)); // libuv's SIGCHLD handler has run
    await new Promise((r) => setTimeout(r, 20));
    const o = h.syscall(SYS.getpid);
    t.same(o.status === 'died' && o.end, { kind: 'signaled', signal: 15, signalName: 'SIGTERM' },
      `round ${i}: the status is still ours to reap`);
  }
});

t.test('PR_SET_PDEATHSIG: the helper dies with its parent', { skip: isX64 ? false : 'x86_64' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gmemtest-pdeath-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const client = fileURLToPath(new URL('../../src/isolate/access-helper.ts', import.meta.url));
  const script = join(dir, 'parent.mts');
  writeFileSync(script, `import { AccessHelper } from ${JSON.stringify(client)};
const h = AccessHelper.spawn();
process.stdout.write(h.pid + '\\n');
setInterval(() => {}, 1000);
`);
  const tsx = fileURLToPath(new URL('../../node_modules/tsx/dist/esm/index.mjs', import.meta.url));
  t.ok(existsSync(tsx), 'tsx is installed');
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const parent = spawn(process.execPath, ['--import', tsx, script], { stdio: ['ignore', 'pipe', 'inherit'], env });
  const helperPid = await new Promise<number>((resolve, reject) => {
    let out = '';
    parent.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(Number(out.trim()));
    });
    parent.once('exit', (c, s) => reject(new Error(`parent ended early: ${c ?? s}`)));
  });
  t.ok(helperPid > 0 && !dead(helperPid), `helper ${helperPid} runs`);
  parent.kill('SIGKILL');
  await new Promise((r) => parent.once('exit', r));
  let gone = false;
  for (let i = 0; i < 100 && !gone; i++) {
    gone = dead(helperPid);
    if (!gone) await new Promise((r) => setTimeout(r, 10));
  }
  t.ok(gone, 'the helper is gone within a second of its parent');
});
