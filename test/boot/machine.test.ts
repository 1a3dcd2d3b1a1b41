// The machine of each guest architecture, the architecture of a kernel image from its
// header, the release of an arm64 Image from its banner, and what the arm64 machine
// changes in QEMU's argv and /init (an x86_64 boot's stay as they were). No boot.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { modulesDirRelease, readKernelRelease } from '../../src/boot/boot-and-run.js';
import { assertStaticElf, renderInit } from '../../src/boot/initramfs.js';
import { kernelArch, MACHINES } from '../../src/boot/machine.js';
import { qemuArgv } from '../../src/boot/qemu.js';

/** A file that starts like an arm64 Image (header magic at 56) and carries a banner further in. */
function fakeArm64Image(dir: string, banner: string): string {
  const b = Buffer.alloc(0x20000);
  b.writeUInt32LE(0x644d5241, 56); // "ARM\x64"
  b.write('Linux version', 0x1000, 'latin1'); // not the banner: no release and "(" after it
  b.write(banner, 0x8000, 'latin1');
  const p = join(dir, 'Image');
  writeFileSync(p, b);
  return p;
}

function fakeBzImage(dir: string, release: string): string {
  const b = Buffer.alloc(0x1000);
  b.write('HdrS', 0x202, 'latin1');
  b.writeUInt16LE(0x300, 0x20e); // kernel_version: offset - 0x200
  b.write(`${release} (debian-kernel@lists.debian.org) #1`, 0x500, 'latin1');
  const p = join(dir, 'bzImage');
  writeFileSync(p, b);
  return p;
}

t.test('kernelArch: the image header says which machine', async (t) => {
  const dir = t.testdir();
  t.equal(kernelArch(fakeArm64Image(dir, 'x')), 'arm64');
  t.equal(kernelArch(fakeBzImage(dir, '7.2.13+deb14-amd64')), 'x86_64');
  writeFileSync(join(dir, 'junk'), 'not a kernel');
  t.equal(kernelArch(join(dir, 'junk')), undefined);
});

t.test('readKernelRelease: bzImage header, arm64 Image banner', async (t) => {
  const dir = t.testdir({ mods: { '7.2.13+deb14-arm64': { 'modules.dep': '' } } });
  t.equal(readKernelRelease(fakeBzImage(dir, '7.2.13+deb14-amd64')), '7.2.13+deb14-amd64');
  t.equal(readKernelRelease(fakeArm64Image(dir, 'Linux version 7.2.13+deb14-arm64 (debian-kernel@lists.debian.org) (gcc 15)')),
    '7.2.13+deb14-arm64');
  t.equal(readKernelRelease(fakeArm64Image(dir, 'no banner here')), undefined);
  t.equal(modulesDirRelease(join(dir, 'mods/7.2.13+deb14-arm64')), '7.2.13+deb14-arm64');
  t.equal(modulesDirRelease(join(dir, 'mods')), undefined, 'no modules.dep: no release');
});

t.test('QEMU argv: the arm64 board and console; x86_64 as before', async (t) => {
  const base = { kernel: 'k', initrd: 'i', timeoutMs: 1, numaNodes: 2 } as const;
  const x86 = qemuArgv(base);
  t.equal(x86[0], '-nodefaults', 'no -M for x86_64');
  t.match(x86[x86.indexOf('-append') + 1], /^console=ttyS0,115200 panic=-1 loglevel=5 rdinit=\/init mitigations=off$/);
  const m = MACHINES.arm64;
  const a = qemuArgv({ ...base, board: m.board, console: m.console });
  t.same(a.slice(0, 2), ['-M', 'virt,virtualization=on,gic-version=3']);
  t.equal(a[a.indexOf('-cpu') + 1], 'max');
  t.match(a[a.indexOf('-append') + 1], /^console=ttyAMA0 panic=-1 /);
  t.same(a.slice(2), x86.map((w) => w.replace('console=ttyS0,115200', 'console=ttyAMA0')), 'otherwise the same argv');
  t.equal(m.qemu, 'qemu-system-aarch64');
  t.notOk(m.modules.includes('kvm'), 'KVM is built into the arm64 kernel');
});

t.test('/init: further shares mounted inside the root, nothing new without them', async (t) => {
  const plain = renderInit({ moduleNames: ['9p'], command: ['true'] });
  t.notMatch(plain, /gmemtest_share/);
  const init = renderInit({ moduleNames: ['9p'], command: ['true'], shares: [{ tag: 'gmemtest_share0', at: '/opt/gmemtest/bundle' }] });
  const lines = init.split('\n');
  const root = lines.findIndex((l) => l.includes('hostroot /host'));
  t.match(lines[root + 1], /^mount -t 9p -o trans=virtio,version=9p2000\.L,msize=512000,cache=loose,ro gmemtest_share0 '\/host\/opt\/gmemtest\/bundle' \|\| fail mount gmemtest_share0$/);
  t.throws(() => renderInit({ moduleNames: [], command: ['x'], shares: [{ tag: 'a b', at: '/x' }] }), /bad share/);
  t.throws(() => renderInit({ moduleNames: [], command: ['x'], shares: [{ tag: 'a', at: 'x' }] }), /bad share/);
});

t.test('assertStaticElf: the machine is checked when given', async (t) => {
  const elf = Buffer.alloc(128);
  elf.writeUInt32BE(0x7f454c46, 0);
  elf[4] = 2;
  elf[5] = 1;
  elf.writeUInt16LE(183, 18);
  elf.writeBigUInt64LE(64n, 0x20);
  t.doesNotThrow(() => assertStaticElf('bb', elf));
  t.doesNotThrow(() => assertStaticElf('bb', elf, 183));
  t.throws(() => assertStaticElf('bb', elf, 62), /machine AArch64, not x86-64/);
});
