/**
 * `gmemtest boot`: boot a kernel under QEMU (TCG by default), run the
 * single-file bundle of gmemtest inside it, and report the guest's KTAP as a
 * subtest named for the kernel release. See boot-ktap.ts for the report.
 */
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError } from 'commander';
import { bootAndRun, findModulesDir, readKernelRelease } from '../boot/boot-and-run.js';
import { assertStaticElf } from '../boot/initramfs.js';
import { checkKvmModules, findKvmModules, KvmModulesError } from '../boot/kvm-modules.js';
import { parseMemorySize, type Accel } from '../boot/qemu.js';
import { bootHeader, bootReport } from './boot-ktap.js';
import { EXIT_FAIL, EXIT_SKIP, UsageError } from './exit-codes.js';
import type { Io } from './io.js';

export interface BootCommandOptions {
  kernel: string;
  modules?: string;
  kvmModules?: string;
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
export function checkGuestArgs(args: readonly string[]): void {
  const first = args.find((a) => !a.startsWith('-'));
  if (first !== undefined && ['caps', 'boot', 'help'].includes(first) && args.indexOf(first) === 0) {
    throw new UsageError(`boot: the guest runs the test suite; '${first}' cannot be given after --`);
  }
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const fmt = a === '--format' ? args[i + 1] : a.startsWith('--format=') ? a.slice('--format='.length) : undefined;
    if (fmt !== undefined && fmt !== 'ktap') throw new UsageError(`boot: the guest's output is re-emitted as KTAP; --format ${fmt} cannot be given after --`);
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
  if (opts.kvmModules !== undefined) validateKvmModules(opts.kernel, opts.modules, opts.kvmModules);
  const mib = parseMemorySize(opts.memory);
  if (mib / opts.numa < 128) throw new UsageError(`--memory ${opts.memory} is too little for ${opts.numa} NUMA nodes (128 MiB a node at least)`);
}

/** --kvm-modules: kvm*.ko files built for this kernel's release, each replacing a module of its tree. */
function validateKvmModules(kernel: string, modules: string | undefined, dir: string): void {
  const release = readKernelRelease(kernel);
  const modulesDir = modules ?? findModulesDir(kernel, release);
  if (modulesDir === undefined) throw new UsageError(`--kvm-modules: no modules dir found for ${kernel} to replace modules in; pass --modules`);
  try {
    checkKvmModules(findKvmModules(dir), release ?? modulesDir.replace(/\/+$/, '').split('/').pop()!, modulesDir);
  } catch (e) {
    if (e instanceof KvmModulesError) throw new UsageError(`--kvm-modules: ${e.message}`);
    throw e;
  }
}

export async function bootCommand(opts: BootCommandOptions, guestArgs: readonly string[], io: Io, version: string): Promise<number> {
  validateKernel(opts);
  checkGuestArgs(guestArgs);
  const missing = missingTools();
  if (missing !== null) {
    io.out(`KTAP version 1\n1..0 # SKIP ${missing.replace(/#/g, '')}\n`);
    return EXIT_SKIP;
  }
  const bundle = bundlePath();
  if (bundle === undefined) {
    io.err('gmemtest: boot: dist/bundle/gmemtest.mjs is missing: run \'npm run build\'\n');
    return EXIT_FAIL;
  }
  const kernel = resolve(opts.kernel);
  const modules = opts.modules === undefined ? undefined : resolve(opts.modules);
  const kvmModules = opts.kvmModules === undefined ? undefined : resolve(opts.kvmModules);
  // The guest runs the host's node and the bundle through the read-only 9p root, same paths.
  const guestArgv = [process.execPath, bundle, ...guestArgs];
  const release = readKernelRelease(kernel);
  io.out(bootHeader({
    version, kernel, release, modules, kvmModules, accel: opts.accel, cpus: opts.cpus,
    memoryMiB: parseMemorySize(opts.memory), numa: opts.numa, timeoutSec: opts.timeout, guestArgv,
  }));

  // A signal ends the run validly; process.exit runs the boot code's exit hook, which kills QEMU.
  const onSignal = (sig: NodeJS.Signals) => (): void => {
    io.out(`Bail out! interrupted by ${sig}\n`);
    process.exit(EXIT_FAIL);
  };
  const int = onSignal('SIGINT');
  const term = onSignal('SIGTERM');
  process.on('SIGINT', int);
  process.on('SIGTERM', term);
  try {
    const r = await bootAndRun({
      kernel,
      modules,
      kvmModules,
      numa: opts.numa,
      cpus: opts.cpus,
      memory: opts.memory,
      timeoutSec: opts.timeout,
      accel: opts.accel,
      command: guestArgv,
      // The host root is the guest's root: relative paths (--xfail FILE) mean the same there.
      cwd: process.cwd(),
      env: { NO_COLOR: '1' },
      onConsoleLine: opts.verbose ? (l) => io.err(`${l}\n`) : undefined,
    });
    const report = bootReport(r, kernel);
    io.out(report.text);
    if (report.stderr) io.err(`${report.stderr}\n`);
    return report.exitCode;
  } finally {
    process.off('SIGINT', int);
    process.off('SIGTERM', term);
  }
}
