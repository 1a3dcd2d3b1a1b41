/**
 * `gmemtest boot`: boot a kernel under QEMU (TCG by default), run the
 * single-file bundle of gmemtest inside it, and report the guest's KTAP as a
 * subtest named for the kernel release. See boot-ktap.ts for the report.
 */
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { basename, delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError } from 'commander';
import { ARM64_BUNDLE_DIR, ARM64_BUSYBOX, ARM64_NODE, prepareArm64Root } from '../boot/arm64-root.js';
import { bootAndRun, findModulesDir, modulesDirRelease, readKernelRelease, type BootAndRunOptions } from '../boot/boot-and-run.js';
import { assertStaticElf } from '../boot/initramfs.js';
import { checkKvmModules, findKvmModules, KvmModulesError } from '../boot/kvm-modules.js';
import { KEY, MARK, STAGE } from '../boot/init-protocol.js';
import { kernelArch, MACHINES, type BootArch } from '../boot/machine.js';
import { parseMemorySize, type Accel } from '../boot/qemu.js';
import { emptyTotals } from '../ktap/totals.js';
import { wholeRunDocument } from '../ktap/writer.js';
import { totalsLine } from '../ktap/totals.js';
import { resultLine } from '../ktap/writer.js';
import { BOOT_RESULT, bootHeader, bootReport, bootReportFlat, releaseTestName } from './boot-ktap.js';
import { watchCaller } from './caller-watch.js';
import { EXIT_FAIL, EXIT_SKIP, UsageError } from './exit-codes.js';
import { exitWhenWritten, type Io } from './io.js';
import { parseProgress, PROGRESS_ENV, progressLine, progressLinesWanted, StatusLine, type ProgressEvent } from './progress.js';

export type BootFormat = 'ktap' | 'ktap-flat';

export interface BootCommandOptions {
  kernel: string;
  format: BootFormat;
  modules?: string;
  kvmModules?: string;
  numa: number;
  cpus: number;
  memory: string;
  timeout: number;
  accel: Accel;
  /** Default: the kernel image's. */
  arch?: BootArch;
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

/**
 * Why the host cannot boot a guest of `arch` (a skip-all reason), or null. An arm64
 * guest's busybox comes with its prepared root, not from the host.
 */
export function missingTools(busybox = '/bin/busybox', arch: BootArch = 'x86_64'): string | null {
  const m = MACHINES[arch];
  if (!onPath(m.qemu)) return `${m.qemu} not installed (Debian package ${m.qemuPackage})`;
  if (arch !== 'x86_64') return null;
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

export type GuestSetup =
  | {
    readonly kind: 'ok';
    /** The command the guest runs: gmemtest's bundle with `args`. */
    readonly guestArgv: string[];
    /** What bootAndRun needs for that guest. */
    readonly options: Pick<BootAndRunOptions, 'arch' | 'root' | 'shares' | 'busybox' | 'cwd'>;
    /** For the header, when the guest is not x86_64. */
    readonly machine?: NonNullable<Parameters<typeof bootHeader>[0]['machine']>;
  }
  /** The guest cannot be set up on this host, and that is not gmemtest's fault (a skip-all reason). */
  | { readonly kind: 'skip'; readonly reason: string }
  | { readonly kind: 'error'; readonly message: string };

/**
 * How a guest of `arch` runs gmemtest's bundle (also used by the kernel matrix, which
 * runs more in the same guest). x86_64: the host's node and the bundle through the
 * host root, same paths, in the host's cwd (relative paths such as --xfail FILE mean the
 * same there). arm64: the host's node cannot run there, so the guest runs a prepared
 * arm64 root with the bundle's directory shared into it; relative paths mean the root's /.
 */
export async function guestSetup(arch: BootArch, bundle: string, args: readonly string[]): Promise<GuestSetup> {
  if (arch === 'x86_64') return { kind: 'ok', guestArgv: [process.execPath, bundle, ...args], options: { arch, cwd: process.cwd() } };
  const r = await prepareArm64Root();
  if (!r.ok) {
    if (r.skip) return { kind: 'skip', reason: `the arm64 guest root cannot be prepared: ${r.message}` };
    return { kind: 'error', message: `the arm64 guest root: ${r.message}\n${r.log.trim().split('\n').slice(-5).join('\n')}` };
  }
  const m = MACHINES[arch];
  return {
    kind: 'ok',
    guestArgv: [ARM64_NODE, `${ARM64_BUNDLE_DIR}/gmemtest.mjs`, ...args],
    options: { arch, root: r.root, shares: [{ path: dirname(bundle), at: ARM64_BUNDLE_DIR }], busybox: join(r.root, ARM64_BUSYBOX), cwd: '/' },
    machine: { arch, qemu: m.qemu, board: m.board, root: r.root, rootMs: r.ms },
  };
}

/** The guest's architecture: --arch, else the image's; an image of another one is a usage error. */
export function bootArch(kernel: string, asked: BootArch | undefined): BootArch {
  const image = kernelArch(kernel);
  if (asked !== undefined && image !== undefined && image !== asked) {
    throw new UsageError(`--arch ${asked}: ${kernel} is an ${image} kernel image`);
  }
  return asked ?? image ?? 'x86_64';
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
    checkKvmModules(findKvmModules(dir), release ?? modulesDirRelease(modulesDir) ?? basename(resolve(modulesDir)), modulesDir);
  } catch (e) {
    if (e instanceof KvmModulesError) throw new UsageError(`--kvm-modules: ${e.message}`);
    throw e;
  }
}

/**
 * Where a boot's progress goes (src/cli/progress.ts): a status line when stderr is a
 * terminal (not with --verbose, which copies the console there), event lines when the
 * caller asked for them (GMEMTEST_PROGRESS=1), else nowhere. When it goes anywhere, the
 * guest's gmemtest is asked for its own event lines, which reach the host on the console.
 */
function bootProgress(label: string, verbose: boolean, io: Io) {
  const lines = progressLinesWanted();
  const status = verbose || lines ? null : new StatusLine(label);
  const wanted = lines || (status?.active ?? false);
  let booting = false;
  const emit = (e: ProgressEvent): void => {
    if (lines) io.err(progressLine(e));
    status?.update(e);
  };
  if (wanted) emit({ phase: 'preparing' });
  return {
    wanted,
    consoleLine: (line: string): void => {
      if (!booting) {
        booting = true;
        emit({ phase: 'booting' });
      }
      if (line.includes(`${MARK} ${KEY.stage} ${STAGE.commandStart} `)) emit({ phase: 'starting' });
      const e = parseProgress(line);
      if (e !== null && e.phase === 'running') emit(e);
    },
    done: (result: string): void => {
      if (lines) io.err(progressLine({ phase: 'done', detail: result }));
      status?.done(result);
    },
  };
}

export async function bootCommand(opts: BootCommandOptions, guestArgs: readonly string[], io: Io, version: string): Promise<number> {
  validateKernel(opts);
  checkGuestArgs(guestArgs, opts.format);
  const arch = bootArch(opts.kernel, opts.arch);
  const flat = opts.format === 'ktap-flat';
  const skipAll = (reason: string): number => {
    io.out(wholeRunDocument(BOOT_RESULT, { ok: true, directive: 'SKIP', reason }, { ...emptyTotals(), skip: 1 }));
    return EXIT_SKIP;
  };
  const missing = missingTools(undefined, arch);
  if (missing !== null) return skipAll(missing);
  const bundle = bundlePath();
  if (bundle === undefined) {
    io.err('gmemtest: boot: dist/bundle/gmemtest.mjs is missing: run \'npm run build\'\n');
    return EXIT_FAIL;
  }
  const kernel = resolve(opts.kernel);
  const modules = opts.modules === undefined ? undefined : resolve(opts.modules);
  const kvmModules = opts.kvmModules === undefined ? undefined : resolve(opts.kvmModules);
  const g = await guestSetup(arch, bundle, [...(flat ? ['--format', 'ktap-flat'] : []), ...guestArgs]);
  if (g.kind === 'skip') return skipAll(g.reason);
  if (g.kind === 'error') {
    io.err(`gmemtest: boot: ${g.message}\n`);
    return EXIT_FAIL;
  }
  const { guestArgv, options: guest, machine: machineLine } = g;
  const release = readKernelRelease(kernel) ?? (() => {
    const dir = modules ?? findModulesDir(kernel, undefined);
    return dir === undefined ? undefined : modulesDirRelease(dir);
  })();
  io.out(bootHeader({
    version, kernel, release, modules, kvmModules, accel: opts.accel, cpus: opts.cpus,
    memoryMiB: parseMemorySize(opts.memory), numa: opts.numa, timeoutSec: opts.timeout, guestArgv,
    ...(machineLine ? { machine: machineLine } : {}),
  }, flat));

  const progress = bootProgress(`gmemtest boot ${release ?? kernel}`, opts.verbose === true, io);

  // A signal, or the caller gone, ends the document validly with the boot's one result
  // failed; the exit (once that is written) runs the boot code's exit hook, which kills QEMU.
  let stopped = false;
  const interrupted = (why: string): void => {
    if (stopped) return;
    stopped = true;
    progress.done(why);
    const totals = { ...emptyTotals(), error: 1 };
    const name = releaseTestName(release, kernel);
    io.out(flat ? wholeRunDocument(BOOT_RESULT, { ok: false, directive: 'ERROR', reason: why }, totals).replace(/^KTAP version 1\n/, '')
      : `${resultLine(0, false, 1, name, 'ERROR', why)}\n${totalsLine(totals)}\n`);
    exitWhenWritten(EXIT_FAIL);
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
      kvmModules,
      numa: opts.numa,
      cpus: opts.cpus,
      memory: opts.memory,
      timeoutSec: opts.timeout,
      accel: opts.accel,
      command: guestArgv,
      ...guest,
      env: { NO_COLOR: '1', ...(progress.wanted ? { [PROGRESS_ENV]: '1' } : {}) },
      onConsoleLine: opts.verbose ? (l) => io.err(`${l}\n`) : progress.wanted ? progress.consoleLine : undefined,
    });
    // Interrupted while QEMU was ending: that document is already closed; the exit is on its way.
    if (stopped) return EXIT_FAIL;
    const report = flat ? bootReportFlat(r) : bootReport(r, kernel);
    const t = report.totals;
    progress.done(`exit ${report.exitCode}; pass:${t.pass} fail:${t.fail} skip:${t.skip} error:${t.error}`);
    io.out(report.text);
    if (report.stderr) io.err(`${report.stderr}\n`);
    return report.exitCode;
  } finally {
    process.off('SIGINT', int);
    process.off('SIGTERM', term);
    unwatch();
  }
}
