/**
 * bootAndRun: boot a kernel under QEMU with a generated initramfs, run one
 * command inside `chroot /host` (the host root, or a prepared root for another
 * architecture, over read-only 9p) and bring its stdout and exit code back.
 */
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import {
  emptyMarks, HOST_ROOT_TAG, OUT_EXIT, OUT_STDOUT, OUT_TAG, recordMark, STAGE, type Marks,
} from './init-protocol.js';
import { buildInitramfs, type GuestShare } from './initramfs.js';
import { checkKvmModules, findKvmModules, overlayKvmModules } from './kvm-modules.js';
import { kernelArch, MACHINES, type BootArch } from './machine.js';
import { MissingModuleError } from './modules.js';
import { parseMemorySize, runQemu, type Accel, type QemuResult } from './qemu.js';

export interface BootAndRunOptions {
  /** Path of the kernel image (bzImage / vmlinuz). */
  kernel: string;
  /**
   * The kernel's modules dir, the one holding modules.dep (lib/modules/<release>).
   * Default: looked up from the release in the kernel image's header, next
   * to the image (sid's usr/lib/modules/<release>/vmlinuz), in an unpacked
   * package tree around it, then in /lib/modules/<release>.
   */
  modules?: string;
  /**
   * A dir of rebuilt kvm*.ko(.xz/.zst): they replace the same-named modules of
   * `modules` for this boot, in a copy of the tree in the work dir (see kvm-modules.ts).
   */
  kvmModules?: string;
  /** NUMA nodes (default 1). */
  numa?: number;
  /** vCPUs (default 2). */
  cpus?: number;
  /** Guest memory, "2G"/"1536M" or MiB as a number (default 2G). */
  memory?: string | number;
  /** Hard limit for the whole QEMU run, seconds (default 300). */
  timeoutSec?: number;
  /** argv to run inside the chroot; its stdout is captured, its stderr goes to the console. */
  command: readonly string[];
  /** Extra environment for the command. */
  env?: Readonly<Record<string, string>>;
  /** Working directory inside the chroot (default "/"). */
  cwd?: string;
  /**
   * Default "tcg". "kvm" is tried as asked: on a host whose KVM can't run the
   * stock kernel's decompressor it ends as 'kvm-internal-error' (QEMU killed at
   * once) or 'qemu-error' (QEMU aborted, e.g. on an MSR the host rejects).
   */
  accel?: Accel;
  /** QEMU -cpu model (default: "max" under TCG, "host" under KVM). */
  cpuModel?: string;
  /** 9p cache mode of the host root (default "loose"; see InitramfsOptions.hostRootCache). */
  hostRootCache?: 'loose' | 'none';
  /** Module names to load instead of the default 9p + kvm sets. */
  loadModules?: readonly string[];
  /** Console lines kept for diagnostics (default 60). */
  tailLines?: number;
  /** Live console lines (for --verbose style output). */
  onConsoleLine?: (line: string, msSinceStart: number) => void;
  /** Keep the temporary work dir (initramfs, results share) and report it. */
  keepWorkDir?: boolean;
  /**
   * The guest's architecture, which picks the QEMU machine (machine.ts). Default: what
   * the kernel image's header says (an arm64 Image, else x86_64).
   */
  arch?: BootArch;
  /**
   * The directory the guest chroots into, shared read-only over 9p. Default "/": the
   * host's own root, which an x86_64 guest can run (the host's node and libraries). A
   * guest of another architecture needs a root of its own (arm64-root.ts).
   */
  root?: string;
  /** Further host directories shared read-only and mounted at `at` inside the root (which must have that directory). */
  shares?: readonly { readonly path: string; readonly at: string }[];
  /** The static busybox for the initramfs, for the guest's architecture (default /bin/busybox). */
  busybox?: string;
}

/** Host-side milliseconds, counted from QEMU's start, at which /init reached each stage. */
export interface BootTimings {
  /** Building the initramfs (module resolution, decompression, cpio). */
  prepMs: number;
  /** QEMU start to /init running (kernel boot). */
  initMs?: number;
  /** QEMU start to all modules loaded. */
  modulesMs?: number;
  /** QEMU start to the command being started (9p mounted). */
  commandStartMs?: number;
  /** QEMU start to the command's end. */
  commandEndMs?: number;
  /** The command's own run time as the guest saw it (guest uptime difference). */
  commandGuestMs?: number;
  /** QEMU start to QEMU's exit. */
  qemuMs: number;
}

export type BootFailureKind =
  /** A requested module (or a dependency) is not in the kernel's modules dir: nothing was booted. */
  | 'missing-modules'
  /** The initramfs could not be built for another reason (busybox, decompression): nothing was booted. */
  | 'initramfs'
  /** QEMU could not be started or exited with an error before the guest ran /init. */
  | 'qemu-error'
  /** QEMU reported a KVM internal error (it hangs afterwards; it was killed). */
  | 'kvm-internal-error'
  /** The kernel panicked before or while running the command. */
  | 'kernel-panic'
  /** The kernel could not run /init. */
  | 'no-init'
  /** insmod of a module failed in the guest. */
  | 'module-load'
  /** Mounting the host root (or another /init step) failed in the guest. */
  | 'init-error'
  /** The run hit timeoutSec; QEMU was killed. */
  | 'timeout'
  /** QEMU ended without the command's exit code and without a known cause. */
  | 'no-result';

interface BootCommon {
  /** uname -r as /init printed it (or as read from the kernel header). */
  release?: string;
  accel: Accel;
  timings: BootTimings;
  /** The last console lines (kernel messages, /init marks, the command's stderr). */
  consoleTail: string[];
  /** QEMU's argv and stderr, for diagnostics. */
  qemuArgv: string[];
  qemuStderr: string;
  initramfsBytes: number;
  /** Modules loaded in the guest, in order. */
  modulesLoaded: string[];
  /** Set when keepWorkDir was asked. */
  workDir?: string;
}

export interface BootCompleted extends BootCommon {
  ok: true;
  /** The command's exit code (127: not found; 125: cwd missing). */
  exitCode: number;
  /** The command's stdout, byte-exact via the results share (or from the console if that share failed). */
  stdout: string;
  /** Set when the stdout came over the console (results share not mounted). */
  stdoutViaConsole: boolean;
}

export interface BootFailed extends BootCommon {
  ok: false;
  failure: BootFailureKind;
  /** One line saying what went wrong. */
  message: string;
}

export type BootResult = BootCompleted | BootFailed;

/**
 * The release of a kernel image ("7.2.13+deb14-amd64"): from a bzImage's setup header;
 * from the "Linux version <release> " banner inside an (uncompressed) arm64 Image, which
 * has no release in its header.
 */
export function readKernelRelease(kernelPath: string): string | undefined {
  if (kernelArch(kernelPath) === 'arm64') return imageBannerRelease(kernelPath);
  const img = readFileSync(kernelPath);
  if (img.length < 0x210 || img.toString('latin1', 0x202, 0x206) !== 'HdrS') return undefined;
  const off = img.readUInt16LE(0x20e);
  if (off === 0) return undefined;
  const at = off + 0x200;
  const end = img.indexOf(0, at);
  if (end < 0) return undefined;
  return img.toString('latin1', at, end).split(' ')[0] || undefined;
}

const BANNER = Buffer.from('Linux version ');
/** Images larger than this are not searched for the banner. */
const BANNER_SCAN_MAX = 256 * 1024 * 1024;

/** The release in the "Linux version 7.2.13+deb14-arm64 (...)" banner of an uncompressed image. */
function imageBannerRelease(path: string): string | undefined {
  const size = statSync(path).size;
  if (size > BANNER_SCAN_MAX) return undefined;
  const img = Buffer.alloc(size);
  const fd = openSync(path, 'r');
  try {
    for (let done = 0; done < size;) {
      const n = readSync(fd, img, done, size - done, done);
      if (n <= 0) break;
      done += n;
    }
  } finally {
    closeSync(fd);
  }
  // The banner is "Linux version %s (%s) %s": the release, then a space and a parenthesis.
  for (let at = img.indexOf(BANNER); at >= 0; at = img.indexOf(BANNER, at + 1)) {
    const m = /^([\x21-\x7e]+) \(/.exec(img.toString('latin1', at + BANNER.length, at + BANNER.length + 200));
    if (m) return m[1];
  }
  return undefined;
}

/** The release a modules dir is for: its name, when it holds modules.dep (lib/modules/<release>). */
export function modulesDirRelease(modulesDir: string): string | undefined {
  return existsSync(join(modulesDir, 'modules.dep')) ? basename(resolve(modulesDir)) : undefined;
}

/** Finds the modules dir for a kernel image (see BootAndRunOptions.modules). */
export function findModulesDir(kernelPath: string, release: string | undefined): string | undefined {
  const dir = dirname(resolve(kernelPath));
  const candidates = [dir];
  if (release) {
    // .../root/boot/vmlinuz-<rel> in an unpacked package
    for (const up of [join(dir, '..'), join(dir, '..', '..')]) {
      candidates.push(join(up, 'usr/lib/modules', release), join(up, 'lib/modules', release));
    }
    candidates.push(join('/lib/modules', release));
  }
  return candidates.find((c) => existsSync(join(c, 'modules.dep')));
}

function classify(q: QemuResult, marks: Marks): { failure: BootFailureKind; message: string } {
  const consoleText = q.console;
  if (q.kvmInternalError) {
    const first = q.stderr.split('\n').find((l) => /KVM internal error/.test(l)) ?? 'KVM internal error';
    return { failure: 'kvm-internal-error', message: `${first.trim()} (accel kvm); QEMU killed` };
  }
  const err = marks.errors[0];
  if (err !== undefined) {
    if (err.startsWith('insmod ')) return { failure: 'module-load', message: `guest ${err} failed` };
    return { failure: 'init-error', message: `guest /init: ${err} failed` };
  }
  const panic = /Kernel panic - not syncing:.*$/m.exec(consoleText);
  if (panic) {
    const noInit = /No working init found|Failed to execute \/init|Unable to mount root fs/.test(consoleText);
    return { failure: noInit ? 'no-init' : 'kernel-panic', message: panic[0].trim() };
  }
  if (q.timedOut) {
    const where = marks.stages.has(STAGE.commandStart)
      ? 'the command did not finish'
      : marks.stages.has(STAGE.init)
        ? '/init did not reach the command'
        : 'the kernel did not reach /init';
    return { failure: 'timeout', message: `${q.stoppedBecause ?? 'timeout'}: ${where}; QEMU killed` };
  }
  if (q.stoppedBecause) return { failure: 'no-result', message: `QEMU stopped: ${q.stoppedBecause}` };
  if (q.exitCode !== 0 && !marks.stages.has(STAGE.init)) {
    const firstErr = q.stderr.trim().split('\n').slice(-3).join(' | ');
    return { failure: 'qemu-error', message: `QEMU exited with ${q.exitCode ?? q.signal}${firstErr ? `: ${firstErr}` : ''}` };
  }
  return {
    failure: 'no-result',
    message: `QEMU exited (${q.exitCode ?? q.signal}) without the command's exit code${marks.stages.has(STAGE.init) ? '' : '; /init never ran'}`,
  };
}

/**
 * Boots `kernel` under qemu-system-x86_64 (or the machine of its architecture:
 * qemu-system-aarch64's virt board for an arm64 Image, machine.ts) and runs
 * `command` inside the guest, chrooted into the host root or `root` (shared
 * read-only over 9p, host /tmp included, with the guest's /dev, /proc, /sys
 * bound in, a guest tmpfs on /run and TMPDIR=/run/tmp).
 *
 * The guest: a generated initramfs with /bin/busybox (busybox-static) and the
 * kernel's own 9p and kvm modules (NINEP_MODULES, KVM_MODULES and their
 * modules.dep dependencies, decompressed on the host) loaded in dependency
 * order, so /dev/kvm exists in the guest when the CPU model emulates SVM
 * (TCG `-cpu max`). The command's stdout is written to a writable 9p share of
 * a host temp dir (GMEMTEST_OUT_DIR=/run/gmemtest-out inside the guest, where
 * the command may also leave files); if that share can't be mounted it comes
 * back over the serial console. Its stderr goes to the console.
 *
 * Resolves to a BootResult:
 * - `{ok: true, exitCode, stdout, ...}` when the command ran (whatever its exit code);
 * - `{ok: false, failure, message, consoleTail, ...}` for every boot problem:
 *   missing modules or an unbuildable initramfs (nothing booted), QEMU that
 *   won't start, a KVM internal error, a kernel panic, no /init, an insmod or
 *   mount failure in the guest, a run past timeoutSec (QEMU is always killed:
 *   SIGTERM, then SIGKILL), or a guest that ended without an exit code.
 * Both carry the accelerator used, timings and the last console lines.
 *
 * Rejects only for invalid options (empty command, bad memory size, NUMA
 * nodes without enough memory), never because of the guest.
 */
export async function bootAndRun(opts: BootAndRunOptions): Promise<BootResult> {
  const o = checkedOptions(opts);
  const prepStart = performance.now();
  const base: Omit<BootCommon, 'release' | 'timings'> = {
    accel: o.accel, consoleTail: [], qemuArgv: [], qemuStderr: '', initramfsBytes: 0, modulesLoaded: [],
  };
  const early = (failure: BootFailureKind, message: string, release?: string): BootFailed => ({
    ok: false, failure, message, release, ...base, timings: { prepMs: performance.now() - prepStart, qemuMs: 0 },
  });

  if (!existsSync(opts.kernel)) return early('qemu-error', `kernel image ${opts.kernel} does not exist`);
  const machine = MACHINES[opts.arch ?? kernelArch(opts.kernel) ?? 'x86_64'];
  const imageRelease = readKernelRelease(opts.kernel);
  const modulesDir = opts.modules ?? findModulesDir(opts.kernel, imageRelease);
  const headerRelease = imageRelease ?? (modulesDir !== undefined ? modulesDirRelease(modulesDir) : undefined);
  if (!modulesDir) {
    return early('missing-modules', `no modules dir (with modules.dep) found for ${opts.kernel} (release ${headerRelease ?? 'unknown'}); pass modules`, headerRelease);
  }

  const workDir = mkdtempSync(join(tmpdir(), 'gmemtest-boot-'));
  // Removed in the finally below, or at exit when a signal handler ends the process first.
  const removeWorkDir = (): void => { if (!opts.keepWorkDir) rmSync(workDir, { recursive: true, force: true }); };
  process.once('exit', removeWorkDir);
  try {
    let bootModulesDir = modulesDir;
    if (opts.kvmModules !== undefined) {
      const release = headerRelease ?? basename(modulesDir);
      try {
        const mods = findKvmModules(opts.kvmModules);
        checkKvmModules(mods, release, modulesDir);
        bootModulesDir = overlayKvmModules({ modulesDir, modules: mods, release, into: join(workDir, 'kvm-modules') });
      } catch (e) {
        return early('initramfs', `--kvm-modules: ${(e as Error).message}`, headerRelease);
      }
    }
    let prepared: Prepared;
    try {
      prepared = prepare(opts, machine.modules, machine.elfMachine, bootModulesDir, workDir);
    } catch (e) {
      const kind: BootFailureKind = e instanceof MissingModuleError ? 'missing-modules' : 'initramfs';
      return early(kind, (e as Error).message, headerRelease);
    }
    const prepMs = performance.now() - prepStart;
    base.initramfsBytes = prepared.initramfsBytes;
    base.modulesLoaded = prepared.modulesLoaded;

    const marks = emptyMarks();
    let q: QemuResult;
    try {
      q = await runQemu({
        kernel: opts.kernel, initrd: prepared.initrd, accel: o.accel, cpuModel: opts.cpuModel, cpus: o.cpus,
        memoryMiB: o.memoryMiB, numaNodes: o.numa, timeoutMs: o.timeoutSec * 1000, tailLines: opts.tailLines,
        qemu: machine.qemu, qemuPackage: machine.qemuPackage, board: machine.board, console: machine.console,
        shares: [
          { path: opts.root ?? '/', tag: HOST_ROOT_TAG, readonly: true },
          ...(opts.shares ?? []).map((x, i) => ({ path: x.path, tag: shareTag(i), readonly: true })),
          { path: prepared.outDir, tag: OUT_TAG, readonly: false },
        ],
        onConsoleLine: (line, ms) => {
          recordMark(line, ms, marks);
          opts.onConsoleLine?.(line, ms);
        },
      });
    } catch (e) {
      return early('qemu-error', (e as Error).message, headerRelease);
    }
    const common: BootCommon = {
      ...base,
      release: marks.release ?? headerRelease,
      accel: q.accel,
      timings: timingsOf(prepMs, marks, q),
      consoleTail: q.consoleTail,
      qemuArgv: q.argv,
      qemuStderr: q.stderr,
      workDir: opts.keepWorkDir ? workDir : undefined,
    };
    return collect(q, marks, prepared.outDir, common);
  } finally {
    process.off('exit', removeWorkDir);
    removeWorkDir();
  }
}

/** The options with their defaults, checked: bootAndRun rejects only here. */
function checkedOptions(opts: BootAndRunOptions): { accel: Accel; memoryMiB: number; cpus: number; numa: number; timeoutSec: number } {
  if (opts.command.length === 0) throw new Error('bootAndRun: empty command');
  const cpus = opts.cpus ?? 2;
  const numa = opts.numa ?? 1;
  if (!Number.isInteger(cpus) || cpus < 1) throw new Error(`bootAndRun: bad cpus ${cpus}`);
  if (!Number.isInteger(numa) || numa < 1) throw new Error(`bootAndRun: bad numa ${numa}`);
  return { accel: opts.accel ?? 'tcg', memoryMiB: parseMemorySize(opts.memory ?? '2G'), cpus, numa, timeoutSec: opts.timeoutSec ?? 300 };
}

interface Prepared {
  initrd: string;
  outDir: string;
  initramfsBytes: number;
  modulesLoaded: string[];
}

/** The 9p tag of BootAndRunOptions.shares[i]. */
const shareTag = (i: number): string => `gmemtest_share${i}`;

/** The initramfs written into the work dir, and the empty results share beside it. Throws. */
function prepare(opts: BootAndRunOptions, modules: readonly string[], elfMachine: number, modulesDir: string, workDir: string): Prepared {
  const shares: GuestShare[] = (opts.shares ?? []).map((x, i) => ({ tag: shareTag(i), at: x.at }));
  const initramfs = buildInitramfs({
    modulesDir,
    command: opts.command,
    modules: opts.loadModules ?? modules,
    busybox: opts.busybox,
    elfMachine,
    shares,
    env: opts.env,
    cwd: opts.cwd,
    hostRootCache: opts.hostRootCache,
  });
  const initrd = join(workDir, 'initramfs.cpio');
  writeFileSync(initrd, initramfs.data);
  const outDir = join(workDir, 'out');
  mkdirSync(outDir);
  return { initrd, outDir, initramfsBytes: initramfs.data.length, modulesLoaded: initramfs.modules.load.map((m) => m.name) };
}

function timingsOf(prepMs: number, marks: Marks, q: QemuResult): BootTimings {
  const stage = (s: string): number | undefined => marks.stages.get(s)?.hostMs;
  const cs = marks.stages.get(STAGE.commandStart);
  const ce = marks.stages.get(STAGE.commandEnd);
  return {
    prepMs,
    initMs: stage(STAGE.init),
    modulesMs: stage(STAGE.modules),
    commandStartMs: stage(STAGE.commandStart),
    commandEndMs: stage(STAGE.commandEnd),
    commandGuestMs: cs && ce ? Math.round((ce.guestS - cs.guestS) * 1000) : undefined,
    qemuMs: q.wallMs,
  };
}

/** The command's exit code and stdout (share first, console second), or why there is none. */
function collect(q: QemuResult, marks: Marks, outDir: string, common: BootCommon): BootResult {
  const exitFile = join(outDir, OUT_EXIT);
  const exitText = existsSync(exitFile) ? readFileSync(exitFile, 'utf8').trim() : '';
  const exitCode = /^\d+$/.test(exitText) ? Number(exitText) : marks.exit;
  if (exitCode !== undefined && Number.isInteger(exitCode)) {
    const stdoutFile = join(outDir, OUT_STDOUT);
    const viaShare = existsSync(stdoutFile);
    const stdout = viaShare ? readFileSync(stdoutFile, 'utf8') : marks.outLines.map((l) => `${l}\n`).join('');
    return { ok: true, exitCode, stdout, stdoutViaConsole: !viaShare, ...common };
  }
  return { ok: false, ...classify(q, marks), ...common };
}
