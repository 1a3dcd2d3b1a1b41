/**
 * Runs QEMU once (qemu-system-x86_64, or the binary and board of another machine,
 * machine.ts): direct kernel boot with an initramfs, serial console on a pipe, optional NUMA nodes and 9p shares, and a hard timeout
 * after which QEMU is killed (SIGTERM, then SIGKILL). It never waits forever.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';

export type Accel = 'tcg' | 'kvm';

export interface NinePShare {
  /** Host directory. */
  path: string;
  /** mount_tag the guest mounts it by. */
  tag: string;
  readonly: boolean;
}

export interface QemuOptions {
  kernel: string;
  initrd: string;
  /** Extra words for the kernel command line, after the defaults. */
  append?: readonly string[];
  /** Default "tcg". "kvm" uses -accel kvm -cpu host (see KVM_INTERNAL_ERROR). */
  accel?: Accel;
  /**
   * -cpu model. Default: "max" under TCG (emulates AMD SVM, so kvm-amd loads in
   * the guest), "host" under KVM.
   */
  cpuModel?: string;
  /** vCPUs (default 2). */
  cpus?: number;
  /** Guest RAM in MiB (default 2048). With NUMA it is split evenly over the nodes. */
  memoryMiB?: number;
  /** NUMA nodes (default 1: no -numa options). */
  numaNodes?: number;
  shares?: readonly NinePShare[];
  /** Kill QEMU after this long (ms). */
  timeoutMs: number;
  /** Grace period between SIGTERM and SIGKILL (ms, default 2000). */
  killGraceMs?: number;
  /** How many console lines to keep for diagnostics (default 60). */
  tailLines?: number;
  /** Called for each complete console line (without the line end). */
  onConsoleLine?: (line: string, msSinceStart: number) => void;
  /**
   * Called for each console line; returning a reason stops QEMU early
   * (for example when the guest kernel panics and would otherwise sit there).
   */
  stopOn?: (line: string) => string | undefined;
  /** QEMU binary (default qemu-system-x86_64 on PATH). */
  qemu?: string;
  /** The Debian package with that binary, for the error when it cannot be started (default qemu-system-x86). */
  qemuPackage?: string;
  /** -M board (default: none, QEMU's default board). */
  board?: string;
  /** The kernel's console= (default ttyS0,115200: the PC's first serial port). */
  console?: string;
}

export interface QemuResult {
  /** QEMU's exit status, or null when it was killed by a signal. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Set when our timeout fired and QEMU was killed. */
  timedOut: boolean;
  /** Set when stopOn or a KVM internal error made us stop QEMU. */
  stoppedBecause?: string;
  /** QEMU reported a KVM internal error (it would then hang with the vCPU paused). */
  kvmInternalError: boolean;
  /** Last `tailLines` console lines. */
  consoleTail: string[];
  /** All console output. */
  console: string;
  /** QEMU's own stderr. */
  stderr: string;
  wallMs: number;
  accel: Accel;
  /** The argv QEMU was started with (for diagnostics). */
  argv: string[];
}

/** QEMU prints this on stderr and then stops the vCPU instead of exiting. */
export const KVM_INTERNAL_ERROR = /KVM internal error/;

/** Parses "2G", "512M", "1536" (MiB), "1g", "2GiB" into MiB. */
export function parseMemorySize(size: string | number): number {
  if (typeof size === 'number') {
    if (!Number.isInteger(size) || size <= 0) throw new Error(`bad memory size: ${size}`);
    return size;
  }
  const m = /^\s*(\d+)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(size);
  if (!m) throw new Error(`bad memory size: ${JSON.stringify(size)} (e.g. 2G, 1536M)`);
  const n = Number(m[1]);
  const unit = (m[2] ?? '').toLowerCase();
  const mib = unit === 'k' ? n / 1024 : unit === 'g' ? n * 1024 : unit === 't' ? n * 1024 * 1024 : n;
  if (!Number.isInteger(mib) || mib <= 0) throw new Error(`bad memory size: ${JSON.stringify(size)} (whole MiB needed)`);
  return mib;
}

/**
 * The -smp value. With NUMA nodes and a vCPU count they divide, each node is
 * its own socket: CPUs of one socket share a last-level cache, and a kernel
 * that finds LLC siblings on different nodes prints a topology WARNING.
 */
export function smpArg(cpus: number, nodes: number): string {
  if (nodes > 1 && cpus % nodes === 0) return `${cpus},sockets=${nodes},cores=${cpus / nodes},threads=1`;
  return String(cpus);
}

/** The -object/-numa options for `nodes` nodes over `cpus` vCPUs and `memoryMiB`. */
export function numaArgs(nodes: number, cpus: number, memoryMiB: number): string[] {
  if (nodes <= 1) return [];
  // Node sizes in 2 MiB steps; the last node takes the remainder.
  const step = 2;
  const per = Math.floor(memoryMiB / nodes / step) * step;
  if (per < 64) throw new Error(`${memoryMiB} MiB is too little for ${nodes} NUMA nodes`);
  const args: string[] = [];
  for (let n = 0; n < nodes; n++) {
    const size = n === nodes - 1 ? memoryMiB - per * (nodes - 1) : per;
    args.push('-object', `memory-backend-ram,id=gmemtest-mem${n},size=${size}M`);
    // Contiguous blocks (one socket a node, see smpArg) when the count
    // divides; otherwise round-robin, and nodes past the vCPU count are
    // memory-only.
    const nodeCpus: number[] = [];
    if (cpus % nodes === 0) {
      const per = cpus / nodes;
      for (let c = n * per; c < (n + 1) * per; c++) nodeCpus.push(c);
    } else {
      for (let c = n; c < cpus; c += nodes) nodeCpus.push(c);
    }
    const cpuOpts = nodeCpus.map((c) => `,cpus=${c}`).join('');
    args.push('-numa', `node,nodeid=${n}${cpuOpts},memdev=gmemtest-mem${n}`);
  }
  return args;
}

/**
 * Kernel command line defaults, after console=<the machine's serial console>. panic=-1
 * reboots at once, and -no-reboot turns that into QEMU exiting.
 */
export const DEFAULT_CONSOLE = 'ttyS0,115200';
export const DEFAULT_APPEND: readonly string[] = [
  'panic=-1',
  'loglevel=5',
  'rdinit=/init',
  'mitigations=off',
];

export function qemuArgv(opts: QemuOptions): string[] {
  const accel = opts.accel ?? 'tcg';
  const cpus = opts.cpus ?? 2;
  const memoryMiB = opts.memoryMiB ?? 2048;
  const nodes = opts.numaNodes ?? 1;
  const args = [
    ...(opts.board !== undefined ? ['-M', opts.board] : []),
    '-nodefaults',
    '-no-user-config',
    '-display', 'none',
    '-serial', 'stdio',
    '-monitor', 'none',
    '-no-reboot',
    // Single-threaded TCG: with one host thread per vCPU (MTTCG), 7.2 guests were seen to
    // oops now and then in int3-based text patching (__schedule), a cross-CPU code-
    // modification race of the emulation. One thread costs ~30% more wall time.
    '-accel', accel === 'tcg' ? 'tcg,thread=single' : accel,
    '-cpu', opts.cpuModel ?? (accel === 'kvm' ? 'host' : 'max'),
    '-smp', smpArg(cpus, nodes),
    '-m', `${memoryMiB}M`,
    ...numaArgs(nodes, cpus, memoryMiB),
    '-kernel', opts.kernel,
    '-initrd', opts.initrd,
    '-append', [`console=${opts.console ?? DEFAULT_CONSOLE}`, ...DEFAULT_APPEND, ...(opts.append ?? [])].join(' '),
  ];
  for (const s of opts.shares ?? []) {
    if (/[,=]/.test(s.tag) || s.path.includes(',')) throw new Error(`9p share path/tag must not contain ',': ${s.path}`);
    args.push(
      '-virtfs',
      `local,path=${s.path},mount_tag=${s.tag},security_model=none,multidevs=remap${s.readonly ? ',readonly=on' : ''}`,
    );
  }
  return args;
}

/** Splits a stream of console output into lines (CR LF or LF), calling `line` for each. */
function lineSplitter(line: (l: string) => void): { feed(chunk: string): void; flush(): void } {
  let partial = '';
  return {
    feed(chunk) {
      const parts = (partial + chunk).split(/\r?\n/);
      partial = parts.pop() ?? '';
      for (const p of parts) line(p.replace(/\r$/, ''));
    },
    flush() {
      if (partial !== '') line(partial);
      partial = '';
    },
  };
}

/** What one QEMU run has seen so far; turned into a QemuResult when QEMU is gone. */
class QemuRun {
  consoleText = '';
  readonly tail: string[] = [];
  stderr = '';
  timedOut = false;
  stoppedBecause: string | undefined;
  kvmInternalError = false;
  #killTimer: NodeJS.Timeout | undefined;

  constructor(private readonly child: ChildProcess, private readonly opts: QemuOptions, private readonly tailLines: number,
    private readonly start: number) {}

  /** SIGTERM now, SIGKILL after the grace period; the first reason given is kept. */
  stop(why: string): void {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    if (this.stoppedBecause === undefined && !this.timedOut) this.stoppedBecause = why;
    this.child.kill('SIGTERM');
    this.#killTimer ??= setTimeout(() => this.child.kill('SIGKILL'), this.opts.killGraceMs ?? 2000);
  }

  timeout(): void {
    this.timedOut = true;
    this.stop(`timeout after ${this.opts.timeoutMs} ms`);
  }

  consoleLine(l: string): void {
    this.tail.push(l);
    if (this.tail.length > this.tailLines) this.tail.shift();
    this.opts.onConsoleLine?.(l, performance.now() - this.start);
    const why = this.opts.stopOn?.(l);
    if (why !== undefined) this.stop(why);
  }

  stderrChunk(chunk: string): void {
    this.stderr += chunk;
    if (!this.kvmInternalError && KVM_INTERNAL_ERROR.test(this.stderr)) {
      this.kvmInternalError = true;
      this.stop('QEMU reported a KVM internal error (the guest would hang)');
    }
  }

  clearTimers(): void {
    if (this.#killTimer) clearTimeout(this.#killTimer);
  }

  result(code: number | null, signal: NodeJS.Signals | null, accel: Accel, argv: string[]): QemuResult {
    return {
      exitCode: code, signal, timedOut: this.timedOut, stoppedBecause: this.stoppedBecause,
      kvmInternalError: this.kvmInternalError, consoleTail: this.tail, console: this.consoleText, stderr: this.stderr,
      wallMs: performance.now() - this.start, accel, argv,
    };
  }
}

/** Starts QEMU and resolves when it has exited (by itself, or killed by us). Never rejects for guest problems. */
export function runQemu(opts: QemuOptions): Promise<QemuResult> {
  const accel = opts.accel ?? 'tcg';
  const qemu = opts.qemu ?? 'qemu-system-x86_64';
  const argv = qemuArgv(opts);
  if (accel === 'kvm' && !existsSync('/dev/kvm')) {
    return Promise.reject(new Error('--accel kvm: /dev/kvm does not exist on this host'));
  }
  const start = performance.now();
  return new Promise<QemuResult>((resolve, reject) => {
    const child = spawn(qemu, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    const run = new QemuRun(child, opts, opts.tailLines ?? 60, start);
    const lines = lineSplitter((l) => run.consoleLine(l));
    let settled = false;
    // Last resort: never leave a QEMU behind if this process exits first.
    const onExit = (): void => { child.kill('SIGKILL'); };
    process.once('exit', onExit);
    const timer = setTimeout(() => run.timeout(), opts.timeoutMs);
    const done = (): void => {
      clearTimeout(timer);
      run.clearTimers();
      process.removeListener('exit', onExit);
    };

    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      run.consoleText += chunk;
      lines.feed(chunk);
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => run.stderrChunk(chunk));
    child.on('error', (err) => {
      done();
      if (!settled) {
        settled = true;
        reject(new Error(`cannot start ${qemu}: ${err.message} (Debian package ${opts.qemuPackage ?? 'qemu-system-x86'})`));
      }
    });
    child.on('close', (code, signal) => {
      done();
      lines.flush();
      if (settled) return;
      settled = true;
      resolve(run.result(code, signal, accel, [qemu, ...argv]));
    });
  });
}
