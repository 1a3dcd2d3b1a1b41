/**
 * AccessHelper: the client of the access helper (src/native/access-protocol.ts), a tiny
 * generated static program that makes memory accesses on the runner's behalf, so that a
 * SIGBUS or SIGSEGV kills it and never the Node runner. Everything here is synchronous:
 * the helper is started with posix_spawn(3) through ffi-rs, spoken to over two pipes with
 * read/write/poll, and reaped with waitpid(2), all from the calling (JS) thread. libuv
 * never sees the pid: it reaps only the children it spawned itself (waitpid on each of
 * its own pids, never on -1), so the exit status is ours to collect.
 *
 * Time limits: until the helper has said READY, and from sending a command until its
 * ACK ("armed": it has the command and is about to perform it), the generous
 * `startupTimeoutMs` applies; from the ACK until the RESULT, `opTimeoutMs`. So a slow
 * machine that has not yet scheduled the helper is not taken for a hanging access. A
 * helper past its limit is SIGKILLed and reaped.
 *
 * When the helper dies during a command, the outcome says how (signal or exit code,
 * from waitpid), which command it was performing (op and arguments), whether it had
 * acknowledged it, and, for SIGBUS/SIGSEGV, the faulting address its signal handler
 * reported (si_addr, si_code) just before the fault was repeated and killed it.
 *
 * The executable (the generator's bytes, prebuilt: src/native/prebuilt.ts) is written at
 * the first spawn to a memfd, which is executed as /proc/self/fd/N (no file system, no
 * 9p read in a guest, no noexec mount) and kept open for the life of the process; where
 * that cannot be executed, a private temp file is used instead. helperExecutable() does
 * this up front.
 *
 * PR_SET_PDEATHSIG fires when the *thread* that spawned the helper exits: spawn helpers
 * from the main thread (a worker's helpers would die with the worker).
 */
import { constants as osConstants, tmpdir } from 'node:os';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EAGAIN, EINTR, errnoName } from '../kvm/errno.js';
import { libc } from '../kvm/libc.js';
import { NativeRegion } from '../kvm/native.js';
import {
  COMMAND_SIZE, FAULT_INFO_SIZE, HELPER_EXIT_NAME, Kind, MESSAGE_SIZE, Op, PROTOCOL_VERSION,
  type AccessHelperProgram, type OpCode,
} from '../native/access-protocol.js';
import { accessHelperProgram } from '../native/access-helper.js';

export const DEFAULT_STARTUP_TIMEOUT_MS = 60_000;
export const DEFAULT_OP_TIMEOUT_MS = 10_000;

export interface AccessHelperOptions {
  /** Becomes the helper's fd 3 (e.g. a guest_memfd it then maps with SYSCALL mmap). */
  readonly fd?: number;
  /** Spawn to READY, and each command to its ACK. */
  readonly startupTimeoutMs?: number;
  /** Each command's ACK to its RESULT. */
  readonly opTimeoutMs?: number;
  /** For tests: run this program (with this argv) instead of the generated helper. */
  readonly program?: { readonly path: string; readonly argv?: readonly string[] };
}

/** How the helper process ended, from waitpid(). */
export type HelperEnd =
  | { readonly kind: 'exited'; readonly code: number }
  | { readonly kind: 'signaled'; readonly signal: number; readonly signalName: string };

/** What the helper's SIGBUS/SIGSEGV handler reported before the fault killed it. */
export interface FaultInfo {
  readonly signal: number;
  readonly signalName: string;
  /** si_code (BUS_ADRERR 2, SEGV_MAPERR 1, SEGV_ACCERR 2, ...). */
  readonly code: number;
  /** si_addr: the address whose access faulted. */
  readonly addr: number;
}

export interface Command {
  readonly op: OpCode;
  readonly args: readonly number[];
}

export type OpOutcome =
  /** The command ran; `ret` is its raw result (SYSCALL: the kernel's return, -errno on failure). */
  | { readonly status: 'ok'; readonly command: Command; readonly ret: number; readonly errno: number;
      readonly data: Buffer | null; readonly ms: number }
  /** The helper ended while performing it (or before acknowledging it, `armed` false). */
  | { readonly status: 'died'; readonly command: Command; readonly armed: boolean; readonly end: HelperEnd;
      readonly fault: FaultInfo | null; readonly ms: number }
  /** It was still running at the limit; it was SIGKILLed and reaped (`end`). */
  | { readonly status: 'timeout'; readonly command: Command; readonly armed: boolean; readonly end: HelperEnd;
      readonly limitMs: number; readonly ms: number };

/** The helper could not be started, or did not come up. */
export class AccessHelperStartError extends Error {
  readonly end: HelperEnd | null;

  constructor(message: string, end: HelperEnd | null = null) {
    super(message);
    this.name = 'AccessHelperStartError';
    this.end = end;
  }
}

const SIGNAL_NAME: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(osConstants.signals).map(([name, n]) => [n, name]));
const signalName = (n: number): string => SIGNAL_NAME[n] ?? `signal ${n}`;

export function describeEnd(e: HelperEnd): string {
  if (e.kind === 'signaled') return `killed by ${e.signalName}`;
  const own = HELPER_EXIT_NAME[e.code];
  return `exited with code ${e.code}${own ? ` (${own})` : ''}`;
}

const hex = (n: number): string => `0x${n.toString(16)}`;

/** The command as a diagnostic: `FILL [0x7f..000, +0x4000) byte 0xaa`. */
export function describeCommand(c: Command): string {
  const [a0 = 0, a1 = 0, a2 = 0] = c.args;
  switch (c.op) {
    case Op.FILL: return `FILL [${hex(a0)}, +${hex(a1)}) with 0x${(a2 & 0xff).toString(16)}`;
    case Op.LOAD: return `LOAD [${hex(a0)}, +${hex(a1)})`;
    case Op.TOUCH: return `TOUCH [${hex(a0)}, +${hex(a1)}) every ${hex(a2)} bytes`;
    case Op.PUT: return `PUT buffer[${hex(a0)}, +${hex(a1)})`;
    case Op.GET: return `GET buffer[${hex(a0)}, +${hex(a1)})`;
    case Op.EXIT: return `EXIT ${a0}`;
    default: return `SYSCALL ${a0}(${c.args.slice(1).map(hex).join(', ')})`;
  }
}

/** Diagnostic lines for an outcome that is not `ok`. */
export function describeOutcome(o: OpOutcome): string[] {
  if (o.status === 'ok') return [`helper: ${describeCommand(o.command)} returned ${o.ret}`];
  const lines = [`helper: ${describeCommand(o.command)}`];
  const when = o.armed ? 'while performing it' : 'before acknowledging it';
  if (o.status === 'timeout') {
    lines.push(`helper: still running after ${o.limitMs} ms ${when}; SIGKILLed, ${describeEnd(o.end)}`);
  } else {
    lines.push(`helper: ${describeEnd(o.end)} ${when}, after ${o.ms.toFixed(1)} ms`);
  }
  if (o.status === 'died' && o.fault) {
    lines.push(`helper: ${o.fault.signalName} at ${hex(o.fault.addr)} (si_code ${o.fault.code})`);
  }
  return lines;
}

// ---- the executable -----------------------------------------------------------------

const MFD_CLOEXEC = 0x1;
const MFD_EXEC = 0x10;

let program: AccessHelperProgram | null = null;
/** Where the generated executable can be run from; null until the first spawn. */
let programPath: string | null = null;
let programFd = -1;
let programDir: string | null = null;

/** The generated helper for this machine (generated once). */
export function helperProgram(): AccessHelperProgram {
  program ??= accessHelperProgram();
  return program;
}

function memfdPath(elf: Uint8Array): string | null {
  // MFD_EXEC (Linux 6.3) keeps it executable where vm.memfd_noexec = 1; older kernels refuse the flag.
  let r = libc.memfd_create('gmemtest-access', MFD_CLOEXEC | MFD_EXEC);
  if (r.ret < 0) r = libc.memfd_create('gmemtest-access', MFD_CLOEXEC);
  if (r.ret < 0) return null;
  const fd = r.ret;
  using mem = new NativeRegion(Math.ceil(elf.length / 4096) * 4096);
  mem.buf.set(elf);
  for (let done = 0; done < elf.length;) {
    const w = libc.write(fd, mem.addr + done, elf.length - done);
    if (w.ret <= 0) {
      libc.close(fd);
      return null;
    }
    done += w.ret;
  }
  programFd = fd;
  return `/proc/self/fd/${fd}`;
}

function tempFilePath(elf: Uint8Array): string {
  programDir ??= mkdtempSync(join(tmpdir(), 'gmemtest-access-'));
  const p = join(programDir, 'gmem-access');
  writeFileSync(p, elf);
  chmodSync(p, 0o700);
  return p;
}

/**
 * The path the generated helper is executed from (a memfd as /proc/self/fd/N, else a
 * temp file), created on first use. The runner may call it up front so that the memfd
 * it keeps open is not created during a case.
 */
export function helperExecutable(): string {
  const elf = helperProgram().elf;
  programPath ??= memfdPath(elf) ?? tempFilePath(elf);
  return programPath;
}

function dropProgramFiles(): void {
  if (programFd >= 0) libc.close(programFd);
  programFd = -1;
  if (programDir !== null) rmSync(programDir, { recursive: true, force: true });
  programDir = null;
  programPath = null;
}

// ---- posix_spawn ---------------------------------------------------------------------

const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;
const SIGSET_SIZE = 128;
const F_SETFL = 4;
const F_DUPFD_CLOEXEC = 1030;
const O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;
const WNOHANG = 1;
const SIGKILL = 9;
const POLLIN = 0x1;
const POLLOUT = 0x4;
const SYS_pidfd_open = 434; // the same number on every architecture (the unified table from 424 on)

/** Scratch for one spawn: pid, file actions, attributes, signal sets, path and argv. */
const SP = { pid: 0, pipe: 8, fa: 64, strings: 1024, size: 8192 } as const;
let spawnScratch: NativeRegion | null = null;

/** `fd` itself if it is >= 10, else a CLOEXEC duplicate >= 10 (so no dup2 target clobbers a source). */
function highFd(fd: number, owned: number[]): number {
  if (fd >= 10) return fd;
  const r = libc.fcntl(fd, F_DUPFD_CLOEXEC, 10);
  if (r.ret < 0) throw new AccessHelperStartError(`fcntl(${fd}, F_DUPFD_CLOEXEC): ${errnoName(r.errno)}`);
  owned.push(r.ret);
  return r.ret;
}

/**
 * The spawn attributes, the same for every helper, made once: no signal blocked in the
 * child, and every standard signal at its default action (Node ignores SIGPIPE, and an
 * ignored signal would stay ignored across exec).
 */
let spawnAttr: NativeRegion | null = null;
function attributes(): number {
  if (spawnAttr !== null) return spawnAttr.addr;
  const r = new NativeRegion(4096);
  const b = r.buf;
  const ATTR = 0;
  const MASK = 1024;
  const SIGDEF = 1024 + SIGSET_SIZE;
  for (let sig = 1; sig < 32; sig++) {
    if (sig === SIGKILL || sig === 19 /* SIGSTOP */) continue;
    b[SIGDEF + ((sig - 1) >> 3)]! |= 1 << ((sig - 1) & 7);
  }
  const failed = [
    libc.posix_spawnattr_init(r.addr + ATTR),
    libc.posix_spawnattr_setflags(r.addr + ATTR, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF),
    libc.posix_spawnattr_setsigmask(r.addr + ATTR, r.addr + MASK),
    libc.posix_spawnattr_setsigdefault(r.addr + ATTR, r.addr + SIGDEF),
  ].find((x) => x.ret !== 0);
  if (failed) {
    r.free();
    throw new AccessHelperStartError(`posix_spawnattr: ${errnoName(failed.ret)}`);
  }
  spawnAttr = r;
  return r.addr;
}

/** posix_spawn(path, argv, envp = {}) with `dups` [from, to] applied in the child; returns the pid or an error number. */
function spawnProcess(path: string, argv: readonly string[], dups: readonly (readonly [number, number])[]): { pid: number; err: number } {
  spawnScratch ??= new NativeRegion(SP.size);
  const s = spawnScratch;
  const b = s.buf;
  const attr = attributes();
  // Strings, then the argv pointer array, then envp = { NULL }.
  let at = SP.strings;
  const put = (str: string): number => {
    const bytes = Buffer.from(`${str}\0`, 'utf8');
    if (at + bytes.length > SP.size - 8 * (argv.length + 3)) throw new AccessHelperStartError('spawn arguments too long');
    b.set(bytes, at);
    const addr = s.addr + at;
    at += bytes.length;
    return addr;
  };
  const pathAddr = put(path);
  const argAddrs = argv.map(put);
  at = Math.ceil(at / 8) * 8;
  const argvAt = at;
  argAddrs.forEach((p, i) => b.writeBigUInt64LE(BigInt(p), argvAt + 8 * i));
  b.writeBigUInt64LE(0n, argvAt + 8 * argAddrs.length); // argv's NULL
  const envpAt = argvAt + 8 * (argAddrs.length + 1);
  b.writeBigUInt64LE(0n, envpAt); // envp's NULL
  const fa = s.addr + SP.fa;
  libc.posix_spawn_file_actions_init(fa);
  try {
    for (const [from, to] of dups) {
      const r = libc.posix_spawn_file_actions_adddup2(fa, from, to);
      if (r.ret !== 0) return { pid: -1, err: r.ret };
    }
    const r = libc.posix_spawn(s.addr + SP.pid, pathAddr, fa, attr, s.addr + argvAt, s.addr + envpAt);
    if (r.ret !== 0) return { pid: -1, err: r.ret };
    return { pid: b.readInt32LE(SP.pid), err: 0 };
  } finally {
    libc.posix_spawn_file_actions_destroy(fa);
  }
}

function decodeStatus(status: number): HelperEnd {
  const sig = status & 0x7f;
  if (sig === 0) return { kind: 'exited', code: (status >> 8) & 0xff };
  return { kind: 'signaled', signal: sig, signalName: signalName(sig) };
}

// ---- live helpers (killed when this process exits) ----------------------------------

const live = new Set<AccessHelper>();
let exitHook = false;

/** Helpers started and not yet reaped. */
export function liveAccessHelpers(): number {
  return live.size;
}

/** SIGKILLs and reaps every live helper; returns how many there were. */
export function killAllAccessHelpers(): number {
  const n = live.size;
  for (const h of [...live]) h.kill();
  return n;
}

// ---- the client -----------------------------------------------------------------------

/** I/O buffer layout: pollfds, the waitpid status, the command, then the reply buffer. */
const IO = { pollfds: 0, status: 32, command: 64, reply: 4096, size: 4096 + 0x20000 } as const;
/** I/O buffers of reaped helpers, for the next ones (each is an mmap and a munmap less). */
const ioPool: NativeRegion[] = [];
const takeIo = (): NativeRegion => ioPool.pop() ?? new NativeRegion(IO.size);
const returnIo = (r: NativeRegion): void => {
  if (ioPool.length < 4) ioPool.push(r);
  else r.free();
};

type ReadResult = 'ok' | ReadFailure;
type ReadFailure = 'eof' | 'timeout' | 'exited';

export class AccessHelper implements Disposable {
  readonly pid: number;
  /** Address and size of the helper's data buffer (PUT/GET; SYSCALL pointer arguments). */
  readonly bufferAddr: number;
  readonly bufferSize: number;
  readonly loadMax: number;
  readonly startupTimeoutMs: number;
  readonly opTimeoutMs: number;

  #cmdFd: number;
  #replyFd: number;
  #pidFd: number;
  #io: NativeRegion;
  #ioSize: number;
  /** Unconsumed reply bytes: [#rStart, #rEnd) of the reply buffer. */
  #rStart = 0;
  #rEnd = 0;
  #end: HelperEnd | null = null;
  #fault: FaultInfo | null = null;
  #startupMs = 0;

  private constructor(pid: number, cmdFd: number, replyFd: number, pidFd: number, io: NativeRegion, opts: AccessHelperOptions) {
    this.pid = pid;
    this.#cmdFd = cmdFd;
    this.#replyFd = replyFd;
    this.#pidFd = pidFd;
    this.#io = io;
    this.#ioSize = io.size - IO.reply;
    this.startupTimeoutMs = opts.startupTimeoutMs ?? DEFAULT_STARTUP_TIMEOUT_MS;
    this.opTimeoutMs = opts.opTimeoutMs ?? DEFAULT_OP_TIMEOUT_MS;
    const p = opts.program ? null : helperProgram();
    this.bufferAddr = p?.bufferAddr ?? 0;
    this.bufferSize = p?.bufferSize ?? 0;
    this.loadMax = p?.loadMax ?? 0;
    live.add(this);
    if (!exitHook) {
      exitHook = true;
      process.once('exit', () => { killAllAccessHelpers(); dropProgramFiles(); });
    }
  }

  /**
   * Starts a helper and waits for its READY. Throws AccessHelperStartError when it
   * cannot be spawned, ends, or stays silent past the start-up limit (it is then killed
   * and reaped first).
   */
  static spawn(opts: AccessHelperOptions = {}): AccessHelper {
    const t0 = performance.now();
    const owned: number[] = [];
    const io = takeIo();
    let spawned: { pid: number; err: number } = { pid: -1, err: 0 };
    let cmdWrite = -1;
    let replyRead = -1;
    try {
      spawnScratch ??= new NativeRegion(SP.size);
      const fds = spawnScratch;
      const pipe = (): [number, number] => {
        const r = libc.pipe2(fds.addr + SP.pipe, O_CLOEXEC);
        if (r.ret < 0) throw new AccessHelperStartError(`pipe2: ${errnoName(r.errno)}`);
        const ends: [number, number] = [fds.buf.readInt32LE(SP.pipe), fds.buf.readInt32LE(SP.pipe + 4)];
        owned.push(...ends);
        return ends;
      };
      const [cmdRead, cw] = pipe();
      const [rr, replyWrite] = pipe();
      cmdWrite = cw;
      replyRead = rr;
      // Our ends never block (every wait is a poll with a deadline); the helper's ends,
      // separate open file descriptions, stay blocking.
      libc.fcntl(cmdWrite, F_SETFL, O_NONBLOCK);
      libc.fcntl(replyRead, F_SETFL, O_NONBLOCK);
      const dups: [number, number][] = [[highFd(cmdRead, owned), 0], [highFd(replyWrite, owned), 1]];
      if (opts.fd !== undefined) dups.push([highFd(opts.fd, owned), 3]);
      const argv = opts.program?.argv ?? ['gmem-access', String(process.pid)];
      if (opts.program) {
        spawned = spawnProcess(opts.program.path, argv, dups);
      } else {
        spawned = spawnProcess(helperExecutable(), argv, dups);
        if (spawned.err !== 0 && programFd >= 0) {
          // The memfd cannot be executed here (vm.memfd_noexec = 2, no /proc): a file.
          libc.close(programFd);
          programFd = -1;
          programPath = tempFilePath(helperProgram().elf);
          spawned = spawnProcess(programPath, argv, dups);
        }
      }
      if (spawned.err !== 0) throw new AccessHelperStartError(`posix_spawn: ${errnoName(spawned.err)}`);
    } catch (e) {
      for (const fd of owned) libc.close(fd);
      returnIo(io);
      throw e;
    }
    // Only our ends stay open here; the child has its own copies.
    for (const fd of owned) if (fd !== cmdWrite && fd !== replyRead) libc.close(fd);
    const pidfd = libc.syscall(SYS_pidfd_open, spawned.pid, 0);
    const helper = new AccessHelper(spawned.pid, cmdWrite, replyRead, pidfd.ret >= 0 ? pidfd.ret : -1, io, opts);
    helper.#awaitReady(t0, opts);
    return helper;
  }

  #awaitReady(t0: number, opts: AccessHelperOptions): void {
    const deadline = t0 + this.startupTimeoutMs;
    const r = this.#readMessage(deadline);
    if (r.result !== 'ok') {
      const end = this.#finish(r.result === 'timeout');
      throw new AccessHelperStartError(r.result === 'timeout'
        ? `access helper did not start within ${this.startupTimeoutMs} ms (SIGKILLed, ${describeEnd(end)})`
        : `access helper ended before it was ready: ${describeEnd(end)}`, end);
    }
    const [kind, version, value, aux] = r.msg;
    if (kind === Kind.FAULT) {
      this.#fault = this.#readFault(aux);
      const end = this.#finish(false);
      throw new AccessHelperStartError(`access helper ended before it was ready: ${describeEnd(end)}`, end);
    }
    if (kind !== Kind.READY || version !== PROTOCOL_VERSION
      || (!opts.program && (value !== this.bufferAddr || aux !== this.bufferSize))) {
      const end = this.#finish(true);
      throw new AccessHelperStartError(`access helper said [${r.msg.join(', ')}] instead of READY v${PROTOCOL_VERSION}`, end);
    }
    this.#startupMs = performance.now() - t0;
  }

  /** Spawn to READY, in ms. */
  get startupMs(): number {
    return this.#startupMs;
  }

  /** How the helper ended, once it has (null while it runs). */
  get ended(): HelperEnd | null {
    return this.#end;
  }

  // ---- commands ----

  /** One command: send it, wait for its ACK, then for its RESULT (with its payload). */
  request(op: OpCode, args: readonly number[] = [], payload?: Uint8Array): OpOutcome {
    const command: Command = { op, args: [...args] };
    if (this.#end !== null) throw new Error(`access helper ${this.pid} has already ended (${describeEnd(this.#end)})`);
    if (args.length > 7) throw new RangeError('at most 7 arguments');
    const t0 = performance.now();
    const io = this.#io.buf;
    io.fill(0, IO.command, IO.command + COMMAND_SIZE);
    io.writeBigUInt64LE(BigInt(op), IO.command);
    args.forEach((v, i) => {
      if (!Number.isSafeInteger(v)) throw new RangeError(`argument ${i} is not a safe integer: ${v}`);
      io.writeBigInt64LE(BigInt(v), IO.command + 8 + 8 * i);
    });
    const ackDeadline = t0 + this.startupTimeoutMs;
    let w = this.#writeAll(this.#io.addr + IO.command, COMMAND_SIZE, ackDeadline);
    if (w === 'ok' && payload && payload.length > 0) w = this.#writePayload(payload, ackDeadline);
    if (w !== 'ok') return this.#failed(command, false, w, t0, this.startupTimeoutMs);

    const ack = this.#readMessage(ackDeadline);
    if (ack.result !== 'ok') return this.#failed(command, false, ack.result, t0, this.startupTimeoutMs);
    if (ack.msg[0] === Kind.FAULT) {
      // A signal that arrived between commands (sent by another process: no access faulted).
      this.#fault = this.#readFault(ack.msg[3]);
      return this.#failed(command, false, 'eof', t0, this.startupTimeoutMs);
    }
    if (ack.msg[0] !== Kind.ACK || ack.msg[1] !== op) return this.#protocolError(command, ack.msg, t0);

    const res = this.#readMessage(performance.now() + this.opTimeoutMs);
    if (res.result !== 'ok') return this.#failed(command, true, res.result, t0, this.opTimeoutMs);
    const [kind, rop, value, aux] = res.msg;
    if (kind === Kind.FAULT) {
      this.#fault = this.#readFault(aux);
      return this.#failed(command, true, 'eof', t0, this.opTimeoutMs);
    }
    if (kind !== Kind.RESULT || rop !== op) return this.#protocolError(command, res.msg, t0);
    let data: Buffer | null = null;
    if (aux > 0) {
      const got = this.#readBytes(aux, performance.now() + this.opTimeoutMs);
      if (got.result !== 'ok') return this.#failed(command, true, got.result, t0, this.opTimeoutMs);
      data = got.bytes;
    }
    const errno = op === Op.SYSCALL && value < 0 && value >= -4095 ? -value : 0;
    return { status: 'ok', command, ret: value, errno, data, ms: performance.now() - t0 };
  }

  /** SYSCALL: the raw system call `nr` in the helper (its own mm); ret is -errno on failure. */
  syscall(nr: number, ...args: number[]): OpOutcome {
    if (args.length > 6) throw new RangeError('at most 6 system call arguments');
    return this.request(Op.SYSCALL, [nr, ...args]);
  }

  /** FILL: `len` bytes at `addr` stored as `byte` with real user stores (rep stosb). */
  fill(addr: number, len: number, byte: number): OpOutcome {
    return this.request(Op.FILL, [addr, len, byte & 0xff]);
  }

  /** LOAD: every byte of [addr, addr + len) loaded by the helper and returned (`data`). */
  load(addr: number, len: number): OpOutcome {
    if (this.loadMax && len > this.loadMax) throw new RangeError(`LOAD of ${len} bytes > ${this.loadMax}`);
    return this.request(Op.LOAD, [addr, len]);
  }

  /** TOUCH: one byte load every `stride` bytes of [addr, addr + len); ret is their sum. */
  touch(addr: number, len: number, stride: number): OpOutcome {
    if (!(stride > 0)) throw new RangeError('TOUCH needs a positive stride');
    return this.request(Op.TOUCH, [addr, len, stride]);
  }

  /** PUT: `bytes` into the data buffer at `offset` (then at bufferAddr + offset in the helper). */
  put(offset: number, bytes: Uint8Array): OpOutcome {
    this.#checkBuffer(offset, bytes.length);
    return this.request(Op.PUT, [offset, bytes.length], bytes);
  }

  /** GET: `len` bytes of the data buffer at `offset` (`data`). */
  get(offset: number, len: number): OpOutcome {
    this.#checkBuffer(offset, len);
    return this.request(Op.GET, [offset, len]);
  }

  /** EXIT: the helper exits with `code`; returns how it ended. */
  exit(code = 0): HelperEnd {
    const o = this.request(Op.EXIT, [code]);
    if (o.status === 'ok') throw new Error('access helper answered EXIT');
    return o.end;
  }

  #checkBuffer(offset: number, len: number): void {
    if (this.bufferSize && (offset < 0 || len < 0 || offset + len > this.bufferSize)) {
      throw new RangeError(`buffer range [${offset}, +${len}) outside the helper's ${this.bufferSize}-byte buffer`);
    }
  }

  // ---- ending ----

  /** SIGKILLs the helper (if it still runs) and reaps it. */
  kill(): HelperEnd {
    return this.#end ?? this.#finish(true);
  }

  /**
   * Ends the helper: closes the command pipe (it exits 0 on EOF), waits up to
   * `graceMs` for it, SIGKILLs it after that, reaps it and closes every fd.
   */
  close(graceMs = 1000): HelperEnd {
    if (this.#end !== null) return this.#end;
    libc.close(this.#cmdFd);
    this.#cmdFd = -1;
    const r = this.#waitExit(performance.now() + graceMs);
    return this.#finish(!r);
  }

  [Symbol.dispose](): void {
    this.close();
  }

  // ---- internals ----

  #failed(command: Command, armed: boolean, why: ReadResult | 'epipe', t0: number, limitMs: number): OpOutcome {
    const timedOut = why === 'timeout';
    const end = this.#finish(timedOut);
    const ms = performance.now() - t0;
    // A helper that died of its own fault before the kill arrived: that is the answer.
    if (timedOut && !(end.kind === 'signaled' && end.signal === SIGKILL)) {
      return { status: 'died', command, armed, end, fault: this.#fault, ms };
    }
    if (timedOut) return { status: 'timeout', command, armed, end, limitMs, ms };
    return { status: 'died', command, armed, end, fault: this.#fault, ms };
  }

  #protocolError(command: Command, msg: readonly number[], t0: number): OpOutcome {
    const end = this.#finish(true);
    throw Object.assign(new Error(`access helper protocol error on ${describeCommand(command)}: got [${msg.join(', ')}]; ${describeEnd(end)}`),
      { ms: performance.now() - t0 });
  }

  #readFault(aux: number): FaultInfo | null {
    if (aux !== FAULT_INFO_SIZE) return null;
    const got = this.#readBytes(aux, performance.now() + 1000);
    if (got.result !== 'ok') return null;
    const b = got.bytes;
    const signal = b.readInt32LE(0);
    return { signal, signalName: signalName(signal), code: b.readInt32LE(8), addr: Number(b.readBigUInt64LE(16)) };
  }

  /** Waits until the process has exited (pidfd readable / waitpid says so) or the deadline. */
  #waitExit(deadline: number): boolean {
    const io = this.#io;
    for (;;) {
      const w = libc.waitpid(this.pid, io.addr + IO.status, WNOHANG);
      if (w.ret === this.pid) {
        this.#end = decodeStatus(io.buf.readInt32LE(IO.status));
        return true;
      }
      const left = deadline - performance.now();
      if (left <= 0) return false;
      if (this.#pidFd >= 0) {
        io.buf.writeInt32LE(this.#pidFd, IO.pollfds);
        io.buf.writeInt16LE(POLLIN, IO.pollfds + 4);
        libc.poll(io.addr + IO.pollfds, 1, Math.ceil(left));
      } else {
        libc.poll(0, 0, Math.min(1, Math.ceil(left))); // no pidfd (Linux < 5.3): sleep 1 ms
      }
    }
  }

  /** Reaps the helper (SIGKILLing it first if `kill` or if it does not go), closes the fds. */
  #finish(kill: boolean): HelperEnd {
    if (this.#end === null) {
      if (kill) {
        libc.kill(this.pid, SIGKILL);
      } else if (!this.#waitExit(performance.now() + 2000)) {
        // EOF but still alive (it closed its own stdout?): it cannot be served any more.
        libc.kill(this.pid, SIGKILL);
      }
      if (this.#end === null) {
        const w = libc.waitpid(this.pid, this.#io.addr + IO.status, 0);
        this.#end = w.ret === this.pid ? decodeStatus(this.#io.buf.readInt32LE(IO.status))
          : { kind: 'exited', code: -1 }; // not our child any more: nothing to reap
      }
      // A FAULT message may still be in the pipe (the helper died while we were timing out).
      if (this.#fault === null) this.#drainFault();
    }
    for (const fd of [this.#cmdFd, this.#replyFd, this.#pidFd]) if (fd >= 0) libc.close(fd);
    this.#cmdFd = this.#replyFd = this.#pidFd = -1;
    returnIo(this.#io);
    live.delete(this);
    return this.#end;
  }

  #drainFault(): void {
    if (this.#replyFd < 0) return;
    for (;;) {
      const m = this.#readMessage(0, true);
      if (m.result !== 'ok') return;
      if (m.msg[0] === Kind.FAULT) {
        this.#fault = this.#readFault(m.msg[3]);
        return;
      }
      if (m.msg[0] === Kind.RESULT && m.msg[3] > 0) {
        if (this.#readBytes(m.msg[3], 0, true).result !== 'ok') return;
      }
    }
  }

  #readMessage(deadline: number, noWait = false): { result: 'ok'; msg: [number, number, number, number] } | { result: ReadFailure } {
    const r = this.#fill(MESSAGE_SIZE, deadline, noWait);
    if (r !== 'ok') return { result: r };
    const b = this.#io.buf;
    const o = IO.reply + this.#rStart;
    const msg: [number, number, number, number] = [Number(b.readBigUInt64LE(o)), Number(b.readBigUInt64LE(o + 8)),
      Number(b.readBigInt64LE(o + 16)), Number(b.readBigUInt64LE(o + 24))];
    this.#rStart += MESSAGE_SIZE;
    return { result: 'ok', msg };
  }

  #readBytes(n: number, deadline: number, noWait = false): { result: 'ok'; bytes: Buffer } | { result: ReadFailure } {
    const out = Buffer.alloc(n);
    let got = 0;
    while (got < n) {
      const want = Math.min(n - got, this.#ioSize);
      const r = this.#fill(want, deadline, noWait);
      if (r !== 'ok') return { result: r };
      this.#io.buf.copy(out, got, IO.reply + this.#rStart, IO.reply + this.#rStart + want);
      this.#rStart += want;
      got += want;
    }
    return { result: 'ok', bytes: out };
  }

  /** Makes at least `n` unconsumed bytes available in the reply buffer. */
  #fill(n: number, deadline: number, noWait: boolean): ReadResult {
    if (this.#rEnd - this.#rStart >= n) return 'ok';
    const b = this.#io.buf;
    if (this.#rStart > 0) {
      b.copy(b, IO.reply, IO.reply + this.#rStart, IO.reply + this.#rEnd);
      this.#rEnd -= this.#rStart;
      this.#rStart = 0;
    }
    // Poll first: right after a command the answer is rarely there yet, and a read that
    // finds nothing is one FFI crossing more (each costs ~0.5 ms in an emulated guest).
    let exited = false;
    let readable = noWait;
    while (this.#rEnd < n) {
      if (!readable) {
        const w = this.#poll(this.#replyFd, POLLIN, deadline);
        if (w === 'timeout') return w;
        if (w === 'exited') exited = true;
      }
      const r = libc.read(this.#replyFd, this.#io.addr + IO.reply + this.#rEnd, this.#ioSize - this.#rEnd);
      if (r.ret > 0) {
        this.#rEnd += r.ret;
        readable = false;
        continue;
      }
      if (r.ret === 0) return 'eof';
      if (r.errno !== EAGAIN && r.errno !== EINTR) return 'eof';
      // Nothing to read from a helper that has exited: someone else holds the pipe's write end.
      if (exited) return 'eof';
      if (noWait) return 'timeout';
      readable = false;
    }
    return 'ok';
  }


  /** Polls `fd` (and the pidfd) until `fd` is ready, the deadline, or the helper exited with nothing left to read. */
  #poll(fd: number, events: number, deadline: number): 'ready' | 'timeout' | 'exited' {
    const b = this.#io.buf;
    for (;;) {
      const left = deadline - performance.now();
      if (left <= 0) return 'timeout';
      b.writeInt32LE(fd, IO.pollfds);
      b.writeInt16LE(events, IO.pollfds + 4);
      b.writeInt16LE(0, IO.pollfds + 6);
      const n = this.#pidFd >= 0 ? 2 : 1;
      b.writeInt32LE(this.#pidFd, IO.pollfds + 8);
      b.writeInt16LE(POLLIN, IO.pollfds + 12);
      b.writeInt16LE(0, IO.pollfds + 14);
      const r = libc.poll(this.#io.addr + IO.pollfds, n, Math.ceil(left));
      if (r.ret <= 0) continue; // EINTR, or nothing yet: recompute what is left
      if (b.readInt16LE(IO.pollfds + 6) !== 0) return 'ready'; // data, EOF (POLLHUP) or an error: the I/O says which
      // The process is gone; whatever it wrote is in the pipe already.
      if (n === 2 && b.readInt16LE(IO.pollfds + 14) !== 0) return 'exited';
    }
  }

  #writeAll(addr: number, len: number, deadline: number): 'ok' | 'timeout' | 'epipe' | 'exited' {
    let done = 0;
    while (done < len) {
      const r = libc.write(this.#cmdFd, addr + done, len - done);
      if (r.ret > 0) {
        done += r.ret;
        continue;
      }
      if (r.errno === EAGAIN || r.errno === EINTR) {
        const w = this.#poll(this.#cmdFd, POLLOUT, deadline);
        if (w === 'timeout') return 'timeout';
        if (w === 'exited') return 'epipe';
        continue;
      }
      return 'epipe'; // EPIPE: the helper is gone (SIGPIPE is ignored in Node)
    }
    return 'ok';
  }

  #writePayload(payload: Uint8Array, deadline: number): 'ok' | 'timeout' | 'epipe' | 'exited' {
    // Between commands every reply byte has been consumed: the reply buffer is free to stage the payload.
    if (this.#rEnd !== this.#rStart) throw new Error('access helper: unread reply bytes before a command');
    this.#rStart = this.#rEnd = 0;
    const chunk = this.#ioSize;
    const at = IO.reply;
    for (let off = 0; off < payload.length; off += chunk) {
      const part = payload.subarray(off, Math.min(payload.length, off + chunk));
      this.#io.buf.set(part, at);
      const w = this.#writeAll(this.#io.addr + at, part.length, deadline);
      if (w !== 'ok') return w;
    }
    return 'ok';
  }
}
