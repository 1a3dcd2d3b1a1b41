import t from 'tap';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { numaArgs, parseMemorySize, qemuArgv, runQemu, smpArg } from '../../src/boot/qemu.js';
import { renderInit, shQuote } from '../../src/boot/initramfs.js';

t.test('memory sizes', async (t) => {
  t.equal(parseMemorySize('2G'), 2048);
  t.equal(parseMemorySize('1536M'), 1536);
  t.equal(parseMemorySize('1GiB'), 1024);
  t.equal(parseMemorySize(512), 512);
  t.throws(() => parseMemorySize('lots'));
  t.throws(() => parseMemorySize('1500K'));
});

t.test('NUMA: one socket and one memory backend per node', async (t) => {
  t.same(numaArgs(1, 2, 2048), []);
  t.equal(smpArg(2, 2), '2,sockets=2,cores=1,threads=1');
  t.equal(smpArg(3, 2), '3');
  t.same(numaArgs(2, 4, 2048), [
    '-object', 'memory-backend-ram,id=gmemtest-mem0,size=1024M',
    '-numa', 'node,nodeid=0,cpus=0,cpus=1,memdev=gmemtest-mem0',
    '-object', 'memory-backend-ram,id=gmemtest-mem1,size=1024M',
    '-numa', 'node,nodeid=1,cpus=2,cpus=3,memdev=gmemtest-mem1',
  ]);
  // 3 nodes over 2 vCPUs: round-robin, the last node memory-only, sizes add up
  const a = numaArgs(3, 2, 1000);
  t.match(a[3], /cpus=0,memdev/);
  t.match(a[7], /cpus=1,memdev/);
  t.match(a[11], /nodeid=2,memdev/);
  t.throws(() => numaArgs(4, 2, 200), /too little/);
  const argv = qemuArgv({ kernel: 'k', initrd: 'i', timeoutMs: 1, numaNodes: 2, shares: [{ path: '/', tag: 'hostroot', readonly: true }] });
  t.ok(argv.includes('-no-reboot'));
  t.equal(argv[argv.indexOf('-accel') + 1], 'tcg,thread=single', 'single-threaded TCG (MTTCG oopses 7.2 in text patching now and then)');
  t.equal(argv[argv.indexOf('-cpu') + 1], 'max');
  t.match(argv[argv.indexOf('-virtfs') + 1], /^local,path=\/,mount_tag=hostroot,.*readonly=on$/);
});

t.test('/init quotes the command', async (t) => {
  t.equal(shQuote("it's"), `'it'\\''s'`);
  const init = renderInit({ moduleNames: ['9p'], command: ['node', '-e', "console.log('a b')"], env: { X: '$HOME' } });
  t.match(init, `set -- 'node' '-e' 'console.log('\\''a b'\\'')'`);
  t.match(init, `export X='$HOME'`);
  t.match(init, 'insmod /lib/modules/9p.ko || fail insmod');
  t.throws(() => renderInit({ moduleNames: [], command: ['x'], env: { 'A-B': '1' } }), /bad environment/);
});

// A stand-in for qemu-system-x86_64: a script with the same interface to us.
function fakeQemu(dir: string, body: string): string {
  const p = join(dir, 'fake-qemu');
  writeFileSync(p, `#!/bin/sh\n${body}\n`);
  chmodSync(p, 0o755);
  return p;
}

t.test('timeout: SIGTERM, then SIGKILL for a QEMU that ignores it', async (t) => {
  const qemu = fakeQemu(t.testdir(), `trap '' TERM\necho booting\nexec sleep 60`);
  const start = Date.now();
  const r = await runQemu({ qemu, kernel: 'k', initrd: 'i', timeoutMs: 300, killGraceMs: 300 });
  t.ok(r.timedOut);
  t.ok(Date.now() - start < 5000, 'did not wait for the sleep');
  t.same(r.consoleTail, ['booting']);
});

t.test('a KVM internal error stops QEMU at once', async (t) => {
  const qemu = fakeQemu(t.testdir(), `echo 'KVM internal error. Suberror: 1' >&2\nexec sleep 60`);
  const r = await runQemu({ qemu, kernel: 'k', initrd: 'i', timeoutMs: 20000, killGraceMs: 300 });
  t.ok(r.kvmInternalError);
  t.notOk(r.timedOut);
  t.ok(r.wallMs < 5000);
});

t.test('a missing QEMU binary rejects', async (t) => {
  await t.rejects(runQemu({ qemu: '/nonexistent/qemu', kernel: 'k', initrd: 'i', timeoutMs: 1000 }), /cannot start/);
});
