/**
 * A vCPU: its fd (KVM_CREATE_VCPU) and its shared kvm_run mapping, released together
 * and deterministically (unmap, then close). Exits are decoded by exits.ts; the
 * architecture's registers by arch/<arch>/vcpu-regs.ts.
 */
import { decodeExit, type VcpuExit } from './exits.js';
import { OwnedFd } from './fd.js';
import { EINTR } from './errno.js';
import { check, libc, SyscallError, type SysResult } from './libc.js';
import { Mapping } from './mapping.js';
import { threadTimer } from './thread-timer.js';
import { KVM_CREATE_VCPU, KVM_RUN } from './uapi/kvm.js';
import { MAP_SHARED, PROT_READ, PROT_WRITE } from './uapi/linux.js';
import type { Vm } from './vm.js';

/** How often the kick repeats once a vCPU is past its limit (see runFor). */
export const KICK_REPEAT_MS = 50;

export class Vcpu extends OwnedFd {
  readonly id: number;
  readonly #run: Mapping;

  private constructor(fd: number, id: number, run: Mapping) {
    super(fd, `vcpu ${id}`);
    this.id = id;
    this.#run = run;
  }

  /** KVM_CREATE_VCPU and the mmap of its kvm_run (vm_vcpu_add). Throws on failure. */
  static create(vm: Vm, id = 0): Vcpu {
    const fd = check(libc.ioctl(vm.fd, KVM_CREATE_VCPU, id), `KVM_CREATE_VCPU(${id})`);
    try {
      const size = vm.kvm.vcpuMmapSize();
      const run = Mapping.map(0, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
      return new Vcpu(fd, id, run);
    } catch (e) {
      libc.close(fd);
      throw e;
    }
  }

  /** An ioctl on this vCPU's fd that throws on failure (the register ioctls). */
  ioctl(request: number, arg: number, what: string): number {
    return check(libc.ioctl(this.fd, request, arg), what);
  }

  /**
   * KVM_RUN, raw: blocks this thread until the guest exits to userspace. Not restarted on
   * EINTR (a signal is how a vCPU is kicked out); the caller decides, as vcpu_run does.
   */
  tryRun(): SysResult {
    return libc.ioctlOnce(this.fd, KVM_RUN, 0);
  }

  /**
   * KVM_RUN until the guest exits to userspace, for at most `timeoutMs` counted from the
   * first KVM_RUN: a POSIX timer aimed at this thread kicks a guest that never exits out
   * of KVM_RUN (EINTR). Another signal's EINTR runs the vCPU again for the time left.
   * Past the limit the timer fires again every KICK_REPEAT_MS, so an expiry that lands
   * while this thread is outside KVM_RUN (between the set and the ioctl, or between two
   * KVM_RUNs) is followed by one that finds it inside.
   * Throws SyscallError when KVM_RUN fails otherwise (vcpu_run asserts).
   */
  runFor(timeoutMs: number): { readonly kind: 'exit' } | { readonly kind: 'timeout'; readonly ms: number } {
    const timer = threadTimer();
    const t0 = performance.now();
    timer.set(timeoutMs, KICK_REPEAT_MS);
    try {
      for (;;) {
        const r = this.tryRun();
        if (r.ret >= 0) return { kind: 'exit' };
        if (r.errno !== EINTR) throw new SyscallError('KVM_RUN', r.errno);
        const ms = performance.now() - t0;
        // The timer's own EINTR comes at the limit (a millisecond of clock skew allowed).
        if (ms >= timeoutMs - 1) return { kind: 'timeout', ms };
      }
    } finally {
      timer.disarm();
    }
  }

  /** The exit kvm_run describes now (after the last KVM_RUN). */
  lastExit(): VcpuExit {
    return decodeExit(this.#run.mem);
  }

  /** Unmaps kvm_run, then closes the fd. Idempotent. */
  override close(): SysResult {
    this.#run.unmap();
    return super.close();
  }
}
