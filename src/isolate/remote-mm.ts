/**
 * RemoteMm: an address space of its own for the cases' memory work, the access helper's
 * (access-helper.ts). Upstream's test maps guest_memfd memory, touches it, advises it and
 * sets its NUMA policy in its own process; here that process is the helper, so that a
 * kernel answering an access with SIGBUS or SIGSEGV ends the helper, and the case can
 * say which access it was, instead of killing the runner.
 *
 * The calls are shown to the fault-injection seam (kvm/libc.ts viaSeam) exactly as the
 * same calls made here would be: mmap/munmap/madvise by name, the NUMA calls as
 * `syscall` with pointers into this process's scratch page. The helper works on a copy
 * of that page (its own buffer): it is sent before the call and brought back after, so
 * what an interceptor reads or writes at those pointers is what the call got and gave.
 */
import { ARCH } from '../kvm/arch/index.js';
import { viaSeam, type SysResult } from '../kvm/libc.js';
import { scratch } from '../kvm/native.js';
import { getMempolicy, mbind, NUMA_SCRATCH_BYTES, queryPageNodes, type Mempolicy, type MovePagesResult, type Syscaller } from '../kvm/numa.js';
import type { Result } from '../kvm/result.js';
import { AccessHelper, describeOutcome, type OpOutcome } from './access-helper.js';

/** The helper's fd for the file it was started with. */
export const HELPER_FD = 3;

/** An access ended without a result: the helper died (a signal) or ran past its limit. */
export type AccessFailure = Exclude<OpOutcome, { status: 'ok' }>;

/** What an access op gave: its result, or how the helper ended while making it. */
export type Access =
  | { readonly ok: true; readonly ret: number; readonly data: Buffer | null }
  | { readonly ok: false; readonly failure: AccessFailure; readonly lines: readonly string[] };

/** A system call the helper could not answer (it died or hung while making it). */
export class RemoteCallError extends Error {
  readonly failure: AccessFailure;

  constructor(what: string, failure: AccessFailure) {
    super(`${what}: the access helper ${failure.status === 'timeout' ? 'did not answer' : 'ended'}: ${describeOutcome(failure).join('; ')}`);
    this.name = 'RemoteCallError';
    this.failure = failure;
  }
}

const toSys = (o: OpOutcome, what: string): SysResult => {
  if (o.status !== 'ok') throw new RemoteCallError(what, o);
  return o.ret < 0 ? { ret: -1, errno: -o.ret } : { ret: o.ret, errno: 0 };
};

export class RemoteMm implements Disposable {
  readonly #h: AccessHelper;
  readonly #sys: Syscaller;

  private constructor(h: AccessHelper) {
    this.#h = h;
    this.#sys = (nr, ...args) => viaSeam('syscall', [nr, ...args], () => this.#scratchCall(nr, args));
  }

  /** A new helper; `fd` (a guest_memfd) becomes its HELPER_FD. Throws AccessHelperStartError. */
  static start(fd?: number): RemoteMm {
    return new RemoteMm(AccessHelper.spawn(fd === undefined ? {} : { fd }));
  }

  get pid(): number {
    return this.#h.pid;
  }

  /** The helper ended (after an access that killed it): a new RemoteMm is needed. */
  get ended(): boolean {
    return this.#h.ended !== null;
  }

  /** A syscall whose pointer arguments point into scratch(): run on a copy of it. */
  #scratchCall(nr: number, args: readonly number[]): SysResult {
    const s = scratch();
    const h = this.#h;
    const local = (a: number): boolean => a >= s.addr && a < s.addr + NUMA_SCRATCH_BYTES;
    const put = h.put(0, s.buf.subarray(0, NUMA_SCRATCH_BYTES));
    if (put.status !== 'ok') throw new RemoteCallError(`syscall ${nr}: copying its arguments`, put);
    const r = toSys(h.syscall(nr, ...args.map((a) => (local(a) ? h.bufferAddr + (a - s.addr) : a))), `syscall ${nr}`);
    const back = h.get(0, NUMA_SCRATCH_BYTES);
    if (back.status !== 'ok' || back.data === null) throw new RemoteCallError(`syscall ${nr}: copying its results`, back as AccessFailure);
    back.data.copy(s.buf, 0, 0, NUMA_SCRATCH_BYTES);
    return r;
  }

  mmap(addr: number, len: number, prot: number, flags: number, fd: number, offset = 0): SysResult {
    const args = [addr, len, prot, flags, fd, offset];
    return viaSeam('mmap', args, () => toSys(this.#h.syscall(ARCH.sys.mmap, ...args), 'mmap'));
  }

  munmap(addr: number, len: number): SysResult {
    const args = [addr, len];
    return viaSeam('munmap', args, () => toSys(this.#h.syscall(ARCH.sys.munmap, ...args), 'munmap'));
  }

  madvise(addr: number, len: number, advice: number): SysResult {
    const args = [addr, len, advice];
    return viaSeam('madvise', args, () => toSys(this.#h.syscall(ARCH.sys.madvise, ...args), 'madvise'));
  }

  mbind(addr: number, len: number, mode: number, nodemask: bigint | null, maxnode: number, flags = 0): SysResult {
    return mbind(addr, len, mode, nodemask, maxnode, flags, this.#sys);
  }

  getMempolicy(addr: number, maxnode: number, flags: number): Result<Mempolicy> {
    return getMempolicy(addr, maxnode, flags, this.#sys);
  }

  /** move_pages(0, ...) in the helper: where each of its pages is. */
  queryPageNodes(addrs: readonly number[]): MovePagesResult {
    return queryPageNodes(addrs, 0, 0, this.#sys);
  }

  #access(o: OpOutcome): Access {
    return o.status === 'ok' ? { ok: true, ret: o.ret, data: o.data } : { ok: false, failure: o, lines: describeOutcome(o) };
  }

  /** memset(addr, byte, len): real user stores. */
  fill(addr: number, len: number, byte: number): Access {
    return this.#access(this.#h.fill(addr, len, byte));
  }

  /** READ_ONCE of every byte of [addr, addr + len): real user loads; the bytes in `data`. */
  load(addr: number, len: number): Access {
    if (len === 0) return { ok: true, ret: 0, data: Buffer.alloc(0) };
    return this.#access(this.#h.load(addr, len));
  }

  /** READ_ONCE of one byte every `stride` bytes of [addr, addr + len). */
  touch(addr: number, len: number, stride: number): Access {
    return this.#access(this.#h.touch(addr, len, stride));
  }

  close(): void {
    this.#h.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
