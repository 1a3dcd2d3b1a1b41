/**
 * `gmemtest boot`: boot a kernel under QEMU (TCG by default), run the
 * single-file bundle of gmemtest inside it, and report the guest's KTAP as a
 * subtest named for the kernel release. See boot-ktap.ts for the report.
 */
import { accessSync, constants, copyFileSync, existsSync, readdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError } from 'commander';
import { bootAndRun, readKernelRelease } from '../boot/boot-and-run.js';
import { GUEST_OUT_DIR } from '../boot/init-protocol.js';
import { assertStaticElf } from '../boot/initramfs.js';
import { parseMemorySize, type Accel } from '../boot/qemu.js';
import { emptyTotals } from '../ktap/totals.js';
import { wholeRunDocument } from '../ktap/writer.js';
import { totalsLine } from '../ktap/totals.js';
import { resultLine } from '../ktap/writer.js';
import { BOOT_RESULT, bootHeader, bootReport, bootReportFlat, releaseTestName } from './boot-ktap.js';
import { watchCaller } from './caller-watch.js';
import { EXIT_FAIL, EXIT_SKIP, UsageError } from './exit-codes.js';
import type { Io } from './io.js';

export type BootFormat = 'ktap' | 'ktap-flat';

export interface BootCommandOptions {
  kernel: string;
  format: BootFormat;
  modules?: string;
  numa: number;
  cpus: number;
  memory: string;
  timeout: number;
  accel: Accel;
  verbose?: boolean;
}

function intArg(what: string, min: number, max: number) {
  return (v: string): number => {
    if (!/^\d+$/.test(v.trim()) || Number(v) < min || Number(v) > max) {
      throw new InvalidArgumentError(`${what}: expected a whole number from ${min} to ${max}`);
    }
    return Number(v);
  };
}

export const numaArg = intArg('NUMA nodes', 1, 8);
export const cpusArg = intArg('vCPUs', 1, 64);
export const timeoutArg = intArg('seconds', 1, 86400);

export function memoryArg(v: string): string {
  let mib: number;
  try {
    mib = parseMemorySize(v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
  if (mib < 256 || mib > 65536) throw new InvalidArgumentError(`${v} is ${mib} MiB: expected 256M to 64G`);
  return v;
}

/** The guest's output must be the default KTAP run: refuse arguments that change that. */
export function checkGuestArgs(args: readonly string[], format: BootFormat = 'ktap'): void {
  const first = args.find((a) => !a.startsWith('-'));
  if (first !== undefined && ['caps', 'boot', 'help'].includes(first) && args.indexOf(first) === 0) {
    throw new UsageError(`boot: the guest runs the test suite; '${first}' cannot be given after --`);
  }
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const fmt = a === '--format' ? args[i + 1] : a.startsWith('--format=') ? a.slice('--format='.length) : undefined;
    if (fmt !== undefined && fmt !== format) throw new UsageError(`boot: the guest's output is re-emitted as ${format}; --format ${fmt} cannot be given after -- (give boot --format)`);
    if (['--list', '-h', '--help', '-V', '--version'].includes(a)) throw new UsageError(`boot: ${a} cannot be given after -- (the guest must run the suite)`);
  }
}

function onPath(cmd: string, path = process.env.PATH ?? ''): boolean {
  return path.split(delimiter).some((d) => {
    if (d === '') return false;
    try {
      accessSync(join(d, cmd), constants.X_OK);
      return statSync(join(d, cmd)).isFile();
    } catch {
      return false;
    }
  });
}

/** Why the host cannot boot a guest (a skip-all reason), or null. */
export function missingTools(busybox = '/bin/busybox'): string | null {
  if (!onPath('qemu-system-x86_64')) return 'qemu-system-x86_64 not installed (Debian package qemu-system-x86)';
  try {
    assertStaticElf(busybox, readFileSync(busybox));
  } catch {
    return `busybox-static not installed (${busybox} is missing or not a static binary; Debian package busybox-static)`;
  }
  return null;
}

/** dist/bundle/gmemtest.mjs, written by `npm run build`. */
export function bundlePath(): string | undefined {
  const candidates = [
    fileURLToPath(new URL('../bundle/gmemtest.mjs', import.meta.url)), // from dist/cli/ or dist/bundle/
    fileURLToPath(new URL('../../dist/bundle/gmemtest.mjs', import.meta.url)), // from src/cli/ (tests)
  ];
  return candidates.find((c) => existsSync(c));
}

/**
 * The V8 code cache a guest's run wrote into the results share (the bundle's loader, told
 * by GMEMTEST_V8CACHE_DIR: the guest's own root is read-only), kept beside the bundle for
 * the next boots when there is none yet and that directory is writable.
 */
export function keepCodeCache(outDir: string, bundle: string): void {
  for (const f of readdirSync(outDir)) {
    if (!f.endsWith('.run.v8cache')) continue;
    const dest = join(dirname(bundle), f);
    if (existsSync(dest)) continue;
    try {
      accessSync(dirname(bundle), constants.W_OK);
      const tmp = `${dest}.${process.pid}.tmp`;
      copyFileSync(join(outDir, f), tmp);
      renameSync(tmp, dest);
    } catch {
      // a read-only install: the next boot trains its own again
    }
  }
}

function validateKernel(opts: BootCommandOptions): void {
  let st;
  try {
    st = statSync(opts.kernel);
  } catch (e) {
    throw new UsageError(`--kernel ${opts.kernel}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  if (!st.isFile()) throw new UsageError(`--kernel ${opts.kernel}: not a regular file (want a bzImage/vmlinuz)`);
  try {
    accessSync(opts.kernel, constants.R_OK);
  } catch {
    throw new UsageError(`--kernel ${opts.kernel}: not readable`);
  }
  if (opts.modules !== undefined) {
    if (!existsSync(opts.modules) || !statSync(opts.modules).isDirectory()) throw new UsageError(`--modules ${opts.modules}: no such directory`);
    if (!existsSync(join(opts.modules, 'modules.dep'))) throw new UsageError(`--modules ${opts.modules}: no modules.dep there (run depmod -b <root> <release>)`);
  }
  const mib = parseMemorySize(opts.memory);
  if (mib / opts.numa < 128) throw new UsageError(`--memory ${opts.memory} is too little for ${opts.numa} NUMA nodes (128 MiB a node at least)`);
}

export async function bootCommand(opts: BootCommandOptions, guestArgs: readonly string[], io: Io, version: string): Promise<number> {
  validateKernel(opts);
  checkGuestArgs(guestArgs, opts.format);
  const flat = opts.format === 'ktap-flat';
  const missing = missingTools();
  if (missing !== null) {
    io.out(wholeRunDocument(BOOT_RESULT, { ok: true, directive: 'SKIP', reason: missing }, { ...emptyTotals(), skip: 1 }));
    return EXIT_SKIP;
  }
  const bundle = bundlePath();
  if (bundle === undefined) {
    io.err('gmemtest: boot: dist/bundle/gmemtest.mjs is missing: run \'npm run build\'\n');
    return EXIT_FAIL;
  }
  const kernel = resolve(opts.kernel);
  const modules = opts.modules === undefined ? undefined : resolve(opts.modules);
  // The guest runs the host's node and the bundle through the read-only 9p root, same paths.
  const guestArgv = [process.execPath, bundle, ...(flat ? ['--format', 'ktap-flat'] : []), ...guestArgs];
  const release = readKernelRelease(kernel);
  io.out(bootHeader({
    version, kernel, release, modules, accel: opts.accel, cpus: opts.cpus,
    memoryMiB: parseMemorySize(opts.memory), numa: opts.numa, timeoutSec: opts.timeout, guestArgv,
  }, flat));

  // A signal, or the caller gone, ends the document validly with the boot's one result
  // failed; process.exit runs the boot code's exit hook, which kills QEMU.
  const interrupted = (why: string): void => {
    const totals = { ...emptyTotals(), error: 1 };
    const name = releaseTestName(release, kernel);
    io.out(flat ? wholeRunDocument(BOOT_RESULT, { ok: false, directive: 'ERROR', reason: why }, totals).replace(/^KTAP version 1\n/, '')
      : `${resultLine(0, false, 1, name, 'ERROR', why)}\n${totalsLine(totals)}\n`);
    process.exit(EXIT_FAIL);
  };
  const int = (): void => interrupted('interrupted by SIGINT');
  const term = (): void => interrupted('interrupted by SIGTERM');
  process.on('SIGINT', int);
  process.on('SIGTERM', term);
  const unwatch = watchCaller((why) => interrupted(`interrupted: ${why}`));
  try {
    const r = await bootAndRun({
      kernel,
      modules,
      numa: opts.numa,
      cpus: opts.cpus,
      memory: opts.memory,
      timeoutSec: opts.timeout,
      accel: opts.accel,
      command: guestArgv,
      // The host root is the guest's root: relative paths (--xfail FILE) mean the same there.
      cwd: process.cwd(),
      env: { NO_COLOR: '1', GMEMTEST_V8CACHE_DIR: GUEST_OUT_DIR },
      onConsoleLine: opts.verbose ? (l) => io.err(`${l}\n`) : undefined,
      collect: (outDir) => keepCodeCache(outDir, bundle),
    });
    const report = flat ? bootReportFlat(r) : bootReport(r, kernel);
    io.out(report.text);
    if (report.stderr) io.err(`${report.stderr}\n`);
    return report.exitCode;
  } finally {
    process.off('SIGINT', int);
    process.off('SIGTERM', term);
    unwatch();
  }
}
