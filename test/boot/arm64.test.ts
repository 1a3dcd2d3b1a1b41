// End-to-end on arm64: boots Debian sid's arm64 kernel under qemu-system-aarch64 (TCG,
// virt board with EL2, two NUMA nodes) with the prepared arm64 root, and runs there what
// only an arm64 machine can execute: the arm64 access helper and ioctl sweep, and the
// arm64 vCPU guest, on the guest's /dev/kvm (fixtures/arm64-selftest.ts). Slow (a minute
// or two), so only with GMEMTEST_BOOT_TESTS=1; SKIPs, saying why, when QEMU, the kernel
// or the root is missing. Kernel: GMEMTEST_ARM64_KERNEL (+ GMEMTEST_ARM64_MODULES), or
// the manifest scripts/arm64/fetch-kernel.sh writes.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { ARM64_BUSYBOX, ARM64_EXTRA_DIR, ARM64_NODE, prepareArm64Root } from '../../src/boot/arm64-root.js';
import { bootAndRun } from '../../src/boot/boot-and-run.js';

interface Manifest { kernels: { suite: string; vmlinuz: string; modules: string }[] }

function findKernel(): { kernel: string; modules?: string } | string {
  if (process.env.GMEMTEST_ARM64_KERNEL) return { kernel: process.env.GMEMTEST_ARM64_KERNEL, modules: process.env.GMEMTEST_ARM64_MODULES };
  const cache = process.env.GMEMTEST_ARM64_CACHE ?? join(homedir(), '.cache/gmemtest');
  const manifest = join(cache, 'kernels-arm64/manifest.json');
  if (!existsSync(manifest)) return `no ${manifest}: run scripts/arm64/fetch-kernel.sh`;
  const sid = (JSON.parse(readFileSync(manifest, 'utf8')) as Manifest).kernels.find((k) => k.suite === 'sid');
  if (!sid || !existsSync(sid.vmlinuz)) return `no sid arm64 kernel in ${manifest}: run scripts/arm64/fetch-kernel.sh`;
  return { kernel: sid.vmlinuz, modules: sid.modules };
}

function skipReason(): string | undefined {
  if (process.env.GMEMTEST_BOOT_TESTS !== '1') return 'set GMEMTEST_BOOT_TESTS=1 to boot a kernel under QEMU (slow)';
  if (spawnSync('qemu-system-aarch64', ['--version']).error) return 'qemu-system-aarch64 not installed (Debian package qemu-system-arm)';
  const k = findKernel();
  return typeof k === 'string' ? k : undefined;
}

const skip = skipReason();
if (skip) console.log(`# arm64 boot test skipped: ${skip}`);

t.test('sid arm64 kernel, 2 NUMA nodes: the arm64 access helper, ioctl sweep and vCPU guest on the guest\'s /dev/kvm', { skip: skip ?? false, timeout: 600_000 }, async (t) => {
  const k = findKernel();
  if (typeof k === 'string') throw new Error(k);
  const root = await prepareArm64Root();
  if (!root.ok) {
    t.fail(`the arm64 root: ${root.message}`, { log: root.log });
    return;
  }
  const dir = t.testdir();
  const { bundle } = (await import(resolve('scripts/bundle.mjs'))) as {
    bundle: (o: { entry: string; outfile: string }) => Promise<{ outfile: string; bytes: number; ms: number }>;
  };
  // ffi-rs stays a bare import: the root has it in /opt/gmemtest/node_modules, above the share.
  const b = await bundle({ entry: 'test/boot/fixtures/arm64-selftest.ts', outfile: join(dir, 'selftest.mjs') });
  const r = await bootAndRun({
    kernel: k.kernel, modules: k.modules, arch: 'arm64', root: root.root, busybox: join(root.root, ARM64_BUSYBOX),
    shares: [{ path: dir, at: ARM64_EXTRA_DIR }], numa: 2, cpus: 2, memory: '2G', timeoutSec: 540,
    command: ['/bin/sh', '-c', `echo "uname=$(uname -m) nodes=$(ls -d /sys/devices/system/node/node[0-9]* | wc -l)"; exec ${ARM64_NODE} ${ARM64_EXTRA_DIR}/selftest.mjs`],
  });
  if (!r.ok) {
    t.fail(`${r.failure}: ${r.message}`, { console: r.consoleTail.join('\n') });
    return;
  }
  const out = r.stdout;
  t.match(out, /^uname=aarch64 nodes=2$/m, 'an arm64 guest with two NUMA nodes');
  const bad = out.split('\n').filter((l) => l.startsWith('not ok'));
  t.same(bad, [], 'no check failed in the guest');
  // On a failure the name itself says how the self-test ended (CI summaries list names only).
  const lastOut = out.trimEnd().split('\n').at(-1) ?? '';
  const kernelSaid = r.consoleTail.filter((l) => /Oops|BUG|Unable to handle|Internal error|Out of memory|Killed process|segfault|kvm \[|Error|FATAL|Aborted|Segmentation|panicked/.test(l)).slice(-2);
  const how = r.exitCode === 0 ? '' : ` (exit ${r.exitCode}${r.exitCode > 128 ? `, signal ${r.exitCode - 128}` : ''}; last stdout line: ${lastOut}${kernelSaid.length ? `; console: ${kernelSaid.join(' / ')}` : ''})`;
  t.equal(r.exitCode, 0, `the self-test exits 0${how}`, { stdout: out, console: r.consoleTail.slice(-20).join('\n') });
  const summary = /^selftest: (\d+) passed, (\d+) failed$/m.exec(out);
  t.ok(summary, 'the self-test ran to its end');
  t.ok(Number(summary?.[1]) >= 52, `${summary?.[1]} checks passed`);
  for (const want of [
    'helper: LOAD reads back every byte FILL stored', "helper: the host sees the helper's stores in the same file",
    'helper: the FAULT report: SIGBUS, BUS_ADRERR, at the first byte', 'helper: SIGSEGV, SEGV_MAPERR, at the address, during LOAD',
    'sweep dlopen: stops at the page size, which succeeds', 'sweep bsearch: stops at the page size, which succeeds',
    'sweep dlopen: guest_memfd offsets 1..0xfff EINVAL, 0x1000 binds', 'sweep bsearch: guest_memfd offsets 1..0xfff EINVAL, 0x1000 binds',
    'guest: DONE (userspace_addr 0)', 'guest: ASSERT at offset 1234, got 0x42', 'guest: data abort, translation fault level 1, FAR 2 GiB',
    'guest: timeout',
  ]) t.match(out, new RegExp(`^ok ${want.replace(/[()]/g, '\\$&')}`, 'm'), want);
  const tm = r.timings;
  t.comment(`root ${(root.ms / 1000).toFixed(1)} s; bundle ${b.bytes} B; kernel to /init ${tm.initMs?.toFixed(0)} ms, command ${tm.commandGuestMs} ms, QEMU ${tm.qemuMs.toFixed(0)} ms`);
  for (const l of out.split('\n').filter((x) => x.startsWith('# '))) t.comment(l.slice(2));
});
