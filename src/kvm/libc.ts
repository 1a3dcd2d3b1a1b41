/**
 * The only module that calls into libc. Every call goes through ffi-rs with
 * errno captured, and comes back as a {@link SysResult}: the raw return value and,
 * when the call failed, its errno. Pointers are passed as plain numbers (addresses
 * of native memory the caller owns, see native.ts): it is the cheapest way through
 * ffi-rs and it keeps Node's heap out of the kernel's reach.
 *
 * A single seam, {@link setInterceptor}, lets the project's own tests change what a
 * call returns (fault injection). Nothing in the CLI reaches it.
 */
import type { JsExternal } from 'ffi-rs';
import { EBADF, EINTR, errnoName } from './errno.js';
import { loadFfi } from './ffi.js';
import { ARCH } from './arch/index.js';

const { ffi } = loadFfi();
const T = ffi.DataType;

export interface SysResult {
  /** What the function returned (-1 on failure for every call here). */
  readonly ret: number;
  /** errno when the call failed, 0 when it succeeded. */
  readonly errno: number;
}

export type LibcFunction =
  | 'open' | 'close' | 'ioctl' | 'read' | 'write' | 'pread' | 'pwrite' | 'fstat'
  | 'fallocate' | 'mmap' | 'munmap' | 'madvise' | 'syscall' | 'getpagesize'
  // child processes and machine code (src/isolate/, src/native/)
  | 'poll' | 'pipe2' | 'fcntl' | 'kill' | 'waitpid' | 'memfd_create' | 'mprotect' | 'bsearch'
  | 'posix_spawn' | 'posix_spawn_file_actions_init' | 'posix_spawn_file_actions_adddup2'
  | 'posix_spawn_file_actions_destroy' | 'posix_spawnattr_init' | 'posix_spawnattr_setflags'
  | 'posix_spawnattr_setsigmask' | 'posix_spawnattr_setsigdefault' | 'posix_spawnattr_destroy';

type Arg = number | string;

/** What a call looked like, handed to an interceptor. */
export interface CallInfo {
  readonly fn: LibcFunction;
  readonly args: readonly Arg[];
  /** Made by the access helper on this process's behalf (viaSeam), in its address space. */
  readonly remote?: true;
}
/** Sees every call; returns what the caller gets. `real()` performs the call. */
export type Interceptor = (call: CallInfo, real: () => SysResult) => SysResult;

let interceptor: Interceptor | null = null;

/** Installs (or, with null, removes) the fault-injection seam. For tests only. */
export function setInterceptor(next: Interceptor | null): void {
  interceptor = next;
}

/** Whether the seam is installed: work done outside libc (a batched routine) is then done call by call. */
export const seamInstalled = (): boolean => interceptor !== null;

const LIB = 'libc';
ffi.open({ library: LIB, path: '' });

interface Binding {
  readonly fn: LibcFunction;
  /** Restart the call on EINTR. */
  readonly restart: boolean;
  readonly params: {
    library: string;
    funcName: string;
    retType: number;
    paramsType: number[];
    paramsValue: Arg[];
    errno: boolean;
    freeResultMemory: false;
  };
}

function bind(fn: LibcFunction, symbol: string, retType: number, paramsType: number[], restart = true): Binding {
  return { fn, restart, params: { library: LIB, funcName: symbol, retType, paramsType, paramsValue: [], errno: false, freeResultMemory: false } };
}

// One argument description per function, built once and reused for every call.
const B = {
  open: bind('open', 'open', T.I32, [T.String, T.I32, T.I32]),
  // close is never restarted: Linux releases the fd even when close returns EINTR.
  close: bind('close', 'close', T.I32, [T.I32], false),
  ioctl: bind('ioctl', 'ioctl', T.I32, [T.I32, T.U64, T.U64]),
  ioctlOnce: bind('ioctl', 'ioctl', T.I32, [T.I32, T.U64, T.U64], false),
  read: bind('read', 'read', T.I64, [T.I32, T.U64, T.U64]),
  write: bind('write', 'write', T.I64, [T.I32, T.U64, T.U64]),
  pread: bind('pread', 'pread64', T.I64, [T.I32, T.U64, T.U64, T.I64]),
  pwrite: bind('pwrite', 'pwrite64', T.I64, [T.I32, T.U64, T.U64, T.I64]),
  // fstat(2) through syscall(): glibc exports an `fstat` symbol only from 2.33 on (before,
  // fstat was an inline over __fxstat), and Node 20 runs on glibc 2.28. The kernel's
  // struct stat is glibc's on x86_64 (checked by the uapi fixture).
  fstat: bind('fstat', 'syscall', T.I64, [T.I64, T.I32, T.U64]),
  fallocate: bind('fallocate', 'fallocate64', T.I32, [T.I32, T.I32, T.I64, T.I64]),
  mmap: bind('mmap', 'mmap64', T.I64, [T.U64, T.U64, T.I32, T.I32, T.I32, T.I64]),
  munmap: bind('munmap', 'munmap', T.I32, [T.U64, T.U64]),
  madvise: bind('madvise', 'madvise', T.I32, [T.U64, T.U64, T.I32]),
  syscall: bind('syscall', 'syscall', T.I64, [T.I64, T.I64, T.I64, T.I64, T.I64, T.I64, T.I64]),
  getpagesize: bind('getpagesize', 'getpagesize', T.I32, []),
  // poll is never restarted: the caller recomputes what is left of its timeout.
  poll: bind('poll', 'poll', T.I32, [T.U64, T.U64, T.I32], false),
  pipe2: bind('pipe2', 'pipe2', T.I32, [T.U64, T.I32]),
  fcntl: bind('fcntl', 'fcntl', T.I32, [T.I32, T.I32, T.I64]),
  kill: bind('kill', 'kill', T.I32, [T.I32, T.I32]),
  waitpid: bind('waitpid', 'waitpid', T.I32, [T.I32, T.U64, T.I32]),
  memfd_create: bind('memfd_create', 'memfd_create', T.I32, [T.String, T.U32]),
  mprotect: bind('mprotect', 'mprotect', T.I32, [T.U64, T.U64, T.I32]),
  // bsearch(key, base, nmemb, size, compar): with nmemb 1 it calls compar exactly once.
  bsearch: bind('bsearch', 'bsearch', T.U64, [T.U64, T.U64, T.U64, T.U64, T.U64]),
  // The posix_spawn family returns an error number instead of setting errno.
  posix_spawn: bind('posix_spawn', 'posix_spawn', T.I32, [T.U64, T.U64, T.U64, T.U64, T.U64, T.U64]),
  fa_init: bind('posix_spawn_file_actions_init', 'posix_spawn_file_actions_init', T.I32, [T.U64]),
  fa_adddup2: bind('posix_spawn_file_actions_adddup2', 'posix_spawn_file_actions_adddup2', T.I32, [T.U64, T.I32, T.I32]),
  fa_destroy: bind('posix_spawn_file_actions_destroy', 'posix_spawn_file_actions_destroy', T.I32, [T.U64]),
  attr_init: bind('posix_spawnattr_init', 'posix_spawnattr_init', T.I32, [T.U64]),
  attr_setflags: bind('posix_spawnattr_setflags', 'posix_spawnattr_setflags', T.I32, [T.U64, T.I16]),
  attr_setsigmask: bind('posix_spawnattr_setsigmask', 'posix_spawnattr_setsigmask', T.I32, [T.U64, T.U64]),
  attr_setsigdefault: bind('posix_spawnattr_setsigdefault', 'posix_spawnattr_setsigdefault', T.I32, [T.U64, T.U64]),
  attr_destroy: bind('posix_spawnattr_destroy', 'posix_spawnattr_destroy', T.I32, [T.U64]),
} as const;

interface FfiErrnoResult {
  value: number;
  errnoCode: number;
}

/** Bound on restarts of one call interrupted by signals (SIGCHLD of a probe, SIGPROF...). */
const MAX_RESTARTS = 1000;

/** errno of the JS thread, read in place: cheaper than ffi-rs's `errno: true` result objects. */
let errnoCell: Buffer | null = null;

function readErrno(): number {
  return errnoCell === null ? 0 : errnoCell.readInt32LE(0);
}

function realCall(b: Binding, args: Arg[]): SysResult {
  b.params.paramsValue = args;
  for (let restarts = 0; ; restarts++) {
    const ret = ffi.load(b.params as Parameters<typeof ffi.load>[0]) as unknown as number | FfiErrnoResult;
    let value: number;
    let errno: number;
    if (typeof ret === 'number') {
      value = ret;
      errno = ret < 0 ? readErrno() : 0;
    } else {
      value = ret.value;
      errno = ret.value < 0 ? ret.errnoCode : 0;
    }
    if (value >= 0) return { ret: value, errno: 0 };
    // A signal that arrived mid-call is not the kernel's answer: ask again, as SA_RESTART
    // would. KVM_RUN (ioctlOnce) and close get EINTR back: for KVM_RUN it means "kicked".
    if (errno !== EINTR || !b.restart || restarts >= MAX_RESTARTS) return { ret: value, errno };
  }
}

/**
 * `args` are what the caller and an interceptor see (an interceptor may rewrite them in
 * place); `prefix`, leading arguments only the symbol gets (a syscall number).
 */
function call(b: Binding, args: Arg[], prefix?: readonly Arg[]): SysResult {
  const real = (): SysResult => realCall(b, prefix ? [...prefix, ...args] : args);
  return interceptor === null ? real() : interceptor({ fn: b.fn, args }, real);
}

/**
 * A call made elsewhere (in the access helper, on this process's behalf) shown to the
 * fault-injection seam as if it were made here: `args` are what the interceptor sees and
 * may rewrite in place, `real` performs it with them.
 */
export function viaSeam(fn: LibcFunction, args: Arg[], real: () => SysResult): SysResult {
  return interceptor === null ? real() : interceptor({ fn, args, remote: true }, real);
}

/** Raw libc calls. Addresses and lengths are numbers (below 2^53). */
export const libc = {
  open: (path: string, flags: number, mode = 0): SysResult => call(B.open, [path, flags, mode]),
  close: (fd: number): SysResult => call(B.close, [fd]),
  ioctl: (fd: number, request: number, arg: number): SysResult => call(B.ioctl, [fd, request, arg]),
  /** ioctl that returns EINTR instead of restarting (KVM_RUN: a signal means "exit now"). */
  ioctlOnce: (fd: number, request: number, arg: number): SysResult => call(B.ioctlOnce, [fd, request, arg]),
  read: (fd: number, addr: number, len: number): SysResult => call(B.read, [fd, addr, len]),
  write: (fd: number, addr: number, len: number): SysResult => call(B.write, [fd, addr, len]),
  pread: (fd: number, addr: number, len: number, offset: number): SysResult =>
    call(B.pread, [fd, addr, len, offset]),
  pwrite: (fd: number, addr: number, len: number, offset: number): SysResult =>
    call(B.pwrite, [fd, addr, len, offset]),
  fstat: (fd: number, statAddr: number): SysResult => call(B.fstat, [fd, statAddr], [ARCH.sys.fstat]),
  fallocate: (fd: number, mode: number, offset: number, len: number): SysResult =>
    call(B.fallocate, [fd, mode, offset, len]),
  /** ret is the mapped address, or -1 (MAP_FAILED) with errno. */
  mmap: (addr: number, len: number, prot: number, flags: number, fd: number, offset: number): SysResult =>
    call(B.mmap, [addr, len, prot, flags, fd, offset]),
  munmap: (addr: number, len: number): SysResult => call(B.munmap, [addr, len]),
  madvise: (addr: number, len: number, advice: number): SysResult => call(B.madvise, [addr, len, advice]),
  /** syscall(2) with up to six arguments. */
  syscall: (nr: number, ...a: number[]): SysResult =>
    call(B.syscall, [nr, a[0] ?? 0, a[1] ?? 0, a[2] ?? 0, a[3] ?? 0, a[4] ?? 0, a[5] ?? 0]),
  getpagesize: (): number => call(B.getpagesize, []).ret,
  /** poll(fds, nfds, timeoutMs); EINTR comes back to the caller. */
  poll: (fdsAddr: number, nfds: number, timeoutMs: number): SysResult => call(B.poll, [fdsAddr, nfds, timeoutMs]),
  /** pipe2(int[2] at addr, flags). */
  pipe2: (fdsAddr: number, flags: number): SysResult => call(B.pipe2, [fdsAddr, flags]),
  fcntl: (fd: number, cmd: number, arg: number): SysResult => call(B.fcntl, [fd, cmd, arg]),
  kill: (pid: number, sig: number): SysResult => call(B.kill, [pid, sig]),
  /** waitpid(pid, int *status at addr, options); a blocking wait is restarted on EINTR. */
  waitpid: (pid: number, statusAddr: number, options: number): SysResult => call(B.waitpid, [pid, statusAddr, options]),
  memfd_create: (name: string, flags: number): SysResult => call(B.memfd_create, [name, flags]),
  mprotect: (addr: number, len: number, prot: number): SysResult => call(B.mprotect, [addr, len, prot]),
  /** bsearch(3); ret is the matching element's address or 0. */
  bsearch: (key: number, base: number, nmemb: number, size: number, compar: number): SysResult =>
    call(B.bsearch, [key, base, nmemb, size, compar]),
  /** ret is posix_spawn's result: 0, or an error number (errno stays 0). */
  posix_spawn: (pidAddr: number, pathAddr: number, fileActions: number, attr: number, argv: number, envp: number): SysResult =>
    call(B.posix_spawn, [pidAddr, pathAddr, fileActions, attr, argv, envp]),
  posix_spawn_file_actions_init: (fa: number): SysResult => call(B.fa_init, [fa]),
  posix_spawn_file_actions_adddup2: (fa: number, fd: number, newfd: number): SysResult => call(B.fa_adddup2, [fa, fd, newfd]),
  posix_spawn_file_actions_destroy: (fa: number): SysResult => call(B.fa_destroy, [fa]),
  posix_spawnattr_init: (attr: number): SysResult => call(B.attr_init, [attr]),
  posix_spawnattr_setflags: (attr: number, flags: number): SysResult => call(B.attr_setflags, [attr, flags]),
  posix_spawnattr_setsigmask: (attr: number, sigset: number): SysResult => call(B.attr_setsigmask, [attr, sigset]),
  posix_spawnattr_setsigdefault: (attr: number, sigset: number): SysResult => call(B.attr_setsigdefault, [attr, sigset]),
  posix_spawnattr_destroy: (attr: number): SysResult => call(B.attr_destroy, [attr]),
};

const memsetToExternal = {
  library: LIB, funcName: 'memset', retType: T.External,
  paramsType: [T.U64, T.I32, T.U64], paramsValue: [0, 0, 0] as number[], freeResultMemory: false,
};

/**
 * A Buffer over `len` bytes of native memory at `addr`, without copying. The caller
 * owns that memory and must not use the Buffer once the memory is gone.
 */
export function bufferAt(addr: number, len: number): Buffer {
  // memset(addr, 0, 0) writes nothing and returns addr, typed as a native pointer.
  memsetToExternal.paramsValue = [addr, 0, 0];
  const ext = ffi.load(memsetToExternal as Parameters<typeof ffi.load>[0]) as unknown as JsExternal;
  return ffi.createExternalBuffer(ext, len);
}

/**
 * Finds the thread's errno (__errno_location) and checks, with a call known to fail
 * with EBADF, that ffi-rs leaves it intact until it is read. Where it does not, every
 * binding falls back to ffi-rs's own `errno: true`.
 */
function setUpErrno(): void {
  const where = ffi.load({ library: LIB, funcName: '__errno_location', retType: T.U64, paramsType: [],
    paramsValue: [], freeResultMemory: false } as Parameters<typeof ffi.load>[0]) as unknown as number;
  errnoCell = bufferAt(where, 4);
  errnoCell.writeInt32LE(0, 0);
  const r = realCall(B.close, [-1]);
  if (r.ret !== -1 || r.errno !== EBADF) {
    errnoCell = null;
    for (const b of Object.values(B)) b.params.errno = true;
  }
}
setUpErrno();

/** A failed call, as an exception: for the throwing style of the fd classes. */
export class SyscallError extends Error {
  readonly errno: number;
  readonly errnoName: string;
  readonly call: string;

  constructor(call: string, errno: number) {
    super(`${call} failed: ${errnoName(errno)}`);
    this.name = 'SyscallError';
    this.call = call;
    this.errno = errno;
    this.errnoName = errnoName(errno);
  }
}

/** Returns r.ret, or throws a SyscallError naming `what` when the call failed. */
export function check(r: SysResult, what: string): number {
  if (r.ret < 0) throw new SyscallError(what, r.errno);
  return r.ret;
}
