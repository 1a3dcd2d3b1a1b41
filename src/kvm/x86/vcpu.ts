/**
 * A vCPU: its fd (KVM_CREATE_VCPU) and its shared kvm_run mapping, released together
 * and deterministically (unmap, then close). Registers go through regs.ts; exits
 * through exits.ts.
 */
import { OwnedFd } from '../fd.js';
import { check, libc, type SysResult } from '../libc.js';
import { Mapping } from '../mapping.js';
import { NativeRegion, scratch } from '../native.js';
import {
  KVM_CREATE_VCPU, KVM_GET_REGS, KVM_GET_SREGS, KVM_GET_SUPPORTED_CPUID, KVM_RUN, KVM_SET_CPUID2, KVM_SET_REGS,
  KVM_SET_SREGS, MAP_SHARED, PROT_READ, PROT_WRITE,
} from '../uapi.js';
import type { Vm } from '../vm.js';
import { decodeExit, type VcpuExit } from './exits.js';
import { decodeRegs, decodeSregs, encodeRegs, encodeSregs, type Regs, type Sregs } from './regs.js';

const CPUID_MAX_ENT = 256;
let cpuid: NativeRegion | null = null;
/** struct kvm_cpuid2 with room for CPUID_MAX_ENT 40-byte entries; one per process, kept like scratch(). */
function cpuidRegion(): NativeRegion {
  cpuid ??= new NativeRegion(8 + CPUID_MAX_ENT * 40);
  return cpuid;
}

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

  /**
   * KVM_SET_CPUID2 with everything KVM_GET_SUPPORTED_CPUID offers (kvm_util's
   * vm_vcpu_add does the same). Without it a stock kernel's KVM refuses EFER.LME
   * in KVM_SET_SREGS (no X86_FEATURE_LM in the guest CPUID): EINVAL.
   */
  setSupportedCpuid(kvmFd: number): void {
    const r = cpuidRegion();
    r.buf.fill(0);
    r.buf.writeUInt32LE(CPUID_MAX_ENT, 0);
    check(libc.ioctl(kvmFd, KVM_GET_SUPPORTED_CPUID, r.addr), 'KVM_GET_SUPPORTED_CPUID');
    check(libc.ioctl(this.fd, KVM_SET_CPUID2, r.addr), 'KVM_SET_CPUID2');
  }

  getRegs(): Regs {
    const s = scratch();
    check(libc.ioctl(this.fd, KVM_GET_REGS, s.addr), 'KVM_GET_REGS');
    return decodeRegs(s.buf);
  }

  setRegs(r: Regs): void {
    const s = scratch();
    encodeRegs(s.buf, r);
    check(libc.ioctl(this.fd, KVM_SET_REGS, s.addr), 'KVM_SET_REGS');
  }

  getSregs(): Sregs {
    const s = scratch();
    check(libc.ioctl(this.fd, KVM_GET_SREGS, s.addr), 'KVM_GET_SREGS');
    return decodeSregs(s.buf);
  }

  setSregs(r: Sregs): void {
    const s = scratch();
    encodeSregs(s.buf, r);
    check(libc.ioctl(this.fd, KVM_SET_SREGS, s.addr), 'KVM_SET_SREGS');
  }

  /**
   * KVM_RUN, raw: blocks this thread until the guest exits to userspace. Not restarted on
   * EINTR (a signal is how a vCPU is kicked out); the caller decides, as vcpu_run does.
   */
  tryRun(): SysResult {
    return libc.ioctlOnce(this.fd, KVM_RUN, 0);
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
