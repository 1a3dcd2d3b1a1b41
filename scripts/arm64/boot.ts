/**
 * Development driver for part 13 (arm64): boots a Debian arm64 kernel under
 * qemu-system-aarch64 (TCG, virt board with EL2) with the project's own
 * initramfs builder (src/boot/initramfs.ts) and QEMU runner (src/boot/qemu.ts),
 * chroots into the arm64 root from prepare-root.sh (shared read-only over 9p)
 * and runs one shell command there. Prints the timings of each phase, the
 * console lines that matter for arm64 bring-up, and the command's stdout.
 *
 *   npx tsx scripts/arm64/boot.ts [--cmd 'sh command'] [--numa 2] [--append word]...
 *        [--kernel Image --modules dir] [--root dir] [--bundle] [--tcg-thread multi]
 *        [--machine virt,...] [--timeout s] [--verbose] [--json file]
 *
 * Defaults come from ~/.cache/gmemtest/kernels-arm64/manifest.json (fetch-kernel.sh)
 * and prepare-root.sh's output. --bundle copies dist/bundle/* (npm run build)
 * into the root's /opt/gmemtest/dist/bundle first.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildInitramfs } from '../../src/boot/initramfs.js';
import { HOST_ROOT_TAG, MARK, OUT_EXIT, OUT_STDOUT, OUT_TAG } from '../../src/boot/init-protocol.js';
import { NINEP_MODULES } from '../../src/boot/modules.js';
import { parseMemorySize, runQemu } from '../../src/boot/qemu.js';

const here = dirname(fileURLToPath(import.meta.url));
const top = resolve(here, '../..');

const { values: o } = parseArgs({
  options: {
    cmd: { type: 'string', default: 'uname -a; cat /proc/cmdline' },
    numa: { type: 'string', default: '2' },
    cpus: { type: 'string', default: '2' },
    memory: { type: 'string', default: '2G' },
    append: { type: 'string', multiple: true, default: [] },
    kernel: { type: 'string' },
    modules: { type: 'string' },
    busybox: { type: 'string' },
    root: { type: 'string' },
    bundle: { type: 'boolean', default: false },
    machine: { type: 'string', default: 'virt,virtualization=on,gic-version=3' },
    'tcg-thread': { type: 'string', default: 'single' },
    timeout: { type: 'string', default: '900' },
    verbose: { type: 'boolean', default: false },
    json: { type: 'string' },
  },
});

interface Manifest { busybox: string; kernels: { suite: string; release: string; vmlinuz: string; modules: string }[] }
const manifestPath = join(process.env.GMEMTEST_ARM64_CACHE ?? join(homedir(), '.cache/gmemtest'), 'kernels-arm64/manifest.json');
const manifest: Manifest | undefined = existsSync(manifestPath) ? (JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest) : undefined;
const k0 = manifest?.kernels[0];
const kernel = o.kernel ?? k0?.vmlinuz;
const modulesDir = o.modules ?? k0?.modules;
const busybox = o.busybox ?? manifest?.busybox;
if (!kernel || !modulesDir || !busybox) {
  console.error(`no kernel/modules/busybox: run scripts/arm64/fetch-kernel.sh or pass --kernel/--modules/--busybox`);
  process.exit(2);
}

const t = (): number => performance.now();
const phases: Record<string, number> = {};
let t0 = t();
const root = o.root ?? execFileSync(join(here, 'prepare-root.sh'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop()!;
phases.root_ms = t() - t0;
{
  // the guest-side probes and the fixture they read their numbers from
  const dst = join(root, 'opt/gmemtest/probe');
  mkdirSync(dst, { recursive: true });
  for (const f of readdirSync(join(here, 'guest'))) copyFileSync(join(here, 'guest', f), join(dst, f));
  copyFileSync(join(top, 'fixtures/uapi-arm64.json'), join(dst, 'uapi-arm64.json'));
}
if (o.bundle) {
  const src = join(top, 'dist/bundle');
  const dst = join(root, 'opt/gmemtest/dist/bundle');
  mkdirSync(dst, { recursive: true });
  for (const f of readdirSync(src)) copyFileSync(join(src, f), join(dst, f));
}

t0 = t();
const initramfs = buildInitramfs({
  modulesDir,
  busybox,
  modules: NINEP_MODULES, // KVM is built into Debian's arm64 kernel; virtio_pci too (listed, found built in)
  command: ['/bin/sh', '-c', o.cmd],
  env: { NO_COLOR: '1' },
});
const work = mkdtempSync(join(tmpdir(), 'gmemtest-arm64-'));
const initrd = join(work, 'initramfs.cpio');
writeFileSync(initrd, initramfs.data);
const outDir = join(work, 'out');
mkdirSync(outDir);
phases.initramfs_ms = t() - t0;

const interesting = /Booting Linux|Machine model|CPU: All CPU|kvm \[|KVM|NUMA|node \d|pkvm|protected|hyp|EL2|Kernel panic|Oops|BUG|WARNING|Unable to|error/i;
const stages: Record<string, number> = {};
const qemuStart = t();
const q = await runQemu({
  qemu: join(here, 'qemu-virt.sh'),
  kernel,
  initrd,
  accel: 'tcg',
  cpus: Number(o.cpus),
  memoryMiB: parseMemorySize(o.memory!),
  numaNodes: Number(o.numa),
  append: ['console=ttyAMA0', ...o.append!],
  timeoutMs: Number(o.timeout) * 1000,
  tailLines: 80,
  shares: [
    { path: root, tag: HOST_ROOT_TAG, readonly: true },
    { path: outDir, tag: OUT_TAG, readonly: false },
  ],
  onConsoleLine: (line, ms) => {
    const i = line.indexOf(`${MARK} t `);
    if (i >= 0) {
      const [stage] = line.slice(i + MARK.length + 3).split(' ');
      if (stage) stages[stage] = ms;
    }
    if (o.verbose || interesting.test(line) || line.includes(MARK)) process.stderr.write(`[${(ms / 1000).toFixed(2)}] ${line}\n`);
  },
});
// GMEMTEST_ARM64_MACHINE and _TCG_THREAD reach qemu-virt.sh through the environment.
void qemuStart;
const stdout = existsSync(join(outDir, OUT_STDOUT)) ? readFileSync(join(outDir, OUT_STDOUT), 'utf8') : '';
const exitText = existsSync(join(outDir, OUT_EXIT)) ? readFileSync(join(outDir, OUT_EXIT), 'utf8').trim() : '';
rmSync(work, { recursive: true, force: true });

const summary = {
  kernel,
  argv: q.argv.join(' '),
  initramfs_bytes: initramfs.data.length,
  modules_loaded: initramfs.modules.load.map((m) => m.name),
  modules_builtin: initramfs.modules.builtin,
  phases_ms: {
    ...phases,
    qemu_to_init: stages.init,
    qemu_to_modules: stages.modules,
    qemu_to_command_start: stages['command-start'],
    command: stages['command-end'] !== undefined && stages['command-start'] !== undefined ? stages['command-end'] - stages['command-start'] : undefined,
    qemu_total: q.wallMs,
  },
  qemu_exit: q.exitCode,
  timed_out: q.timedOut,
  command_exit: exitText === '' ? null : Number(exitText),
};
for (const [k, v] of Object.entries(summary.phases_ms)) if (typeof v === 'number') (summary.phases_ms as Record<string, number>)[k] = Math.round(v);
process.stderr.write(`${JSON.stringify(summary, null, 2)}\n`);
if (o.json) writeFileSync(o.json, JSON.stringify({ ...summary, stdout, console: q.console, stderr: q.stderr }, null, 2));
process.stdout.write(stdout);
if (summary.command_exit === null) {
  process.stderr.write(`no result; last console lines:\n${q.consoleTail.join('\n')}\n${q.stderr}\n`);
  process.exit(1);
}
process.exit(summary.command_exit);
