/**
 * A POSIX timer that signals the calling thread (timer_create with SIGEV_THREAD_ID): how
 * a vCPU blocked in KVM_RUN is kicked out after its time limit. A signal with a handler
 * makes KVM_RUN return EINTR (exit reason KVM_EXIT_INTR); a signal whose action is the
 * default would kill the process instead, so the signal gets a handler the first time a
 * timer is made, and keeps it (a late expiry must never find it gone).
 */
import { ARCH } from './arch/index.js';
import { check, libc } from './libc.js';
import { NativeRegion } from './native.js';
import { OFFSETOF, SIZEOF, putU64 } from './structs.js';
import { CLOCK_MONOTONIC, SIGEV_THREAD_ID, SIGUSR2 } from './uapi/linux.js';

/** The signal the timer sends: no other part of gmemtest, or of Node, uses it. */
export const KICK_SIGNAL = SIGUSR2;
const KICK_SIGNAL_NAME = 'SIGUSR2';

let handled = false;
function handleKick(): void {
  if (handled) return;
  handled = true;
  process.on(KICK_SIGNAL_NAME, () => {});
}

/** A struct timespec of `ms` milliseconds, its two fields at `sec` and `nsec`. */
function putTimespec(b: Buffer, sec: number, nsec: number, ms: number): void {
  putU64(b, sec, Math.floor(ms / 1000));
  putU64(b, nsec, Math.round((ms % 1000) * 1e6));
}

export class ThreadTimer implements Disposable {
  readonly #id: number;
  readonly #mem: NativeRegion;
  #deleted = false;

  private constructor(id: number, mem: NativeRegion) {
    this.#id = id;
    this.#mem = mem;
  }

  /** A timer that signals the thread calling create() (the JS thread). */
  static create(): ThreadTimer {
    handleKick();
    const mem = new NativeRegion(4096);
    try {
      const tid = check(libc.syscall(ARCH.sys.gettid), 'gettid');
      const ev = OFFSETOF.sigevent;
      mem.buf.fill(0, 0, SIZEOF.sigevent + 8);
      mem.buf.writeInt32LE(KICK_SIGNAL, ev.sigev_signo);
      mem.buf.writeInt32LE(SIGEV_THREAD_ID, ev.sigev_notify);
      mem.buf.writeInt32LE(tid, ev.sigev_notify_thread_id);
      const idAt = SIZEOF.sigevent;
      check(libc.syscall(ARCH.sys.timer_create, CLOCK_MONOTONIC, mem.addr, mem.addr + idAt), 'timer_create');
      return new ThreadTimer(mem.buf.readInt32LE(idAt), mem);
    } catch (e) {
      mem.free();
      throw e;
    }
  }

  /**
   * Fires after `ms` (0 disarms), then every `everyMs` after that when given, until set
   * again; replaces an earlier setting.
   */
  set(ms: number, everyMs = 0): void {
    if (this.#deleted) throw new Error('ThreadTimer used after delete');
    const at = 256;
    const it = OFFSETOF.itimerspec;
    const b = this.#mem.buf;
    b.fill(0, at, at + SIZEOF.itimerspec);
    putTimespec(b, at + it['it_value.tv_sec'], at + it['it_value.tv_nsec'], ms);
    putTimespec(b, at + it['it_interval.tv_sec'], at + it['it_interval.tv_nsec'], everyMs);
    check(libc.syscall(ARCH.sys.timer_settime, this.#id, 0, this.#mem.addr + at, 0), 'timer_settime');
  }

  disarm(): void {
    this.set(0);
  }

  delete(): void {
    if (this.#deleted) return;
    this.#deleted = true;
    libc.syscall(ARCH.sys.timer_delete, this.#id);
    this.#mem.free();
  }

  [Symbol.dispose](): void {
    this.delete();
  }
}

let shared: ThreadTimer | null = null;

/** One timer per process for the JS thread, made on first use (like scratch()). */
export function threadTimer(): ThreadTimer {
  shared ??= ThreadTimer.create();
  return shared;
}
