/**
 * x86 vCPU state through the vCPU fd: general registers (KVM_GET/SET_REGS), special
 * registers (KVM_GET/SET_SREGS) and the guest CPUID (KVM_SET_CPUID2 with what
 * KVM_GET_SUPPORTED_CPUID offers).
 */
import { check, libc } from '../../libc.js';
import { NativeRegion, scratch } from '../../native.js';
import type { Vcpu } from '../../vcpu.js';
import { decodeRegs, decodeSregs, encodeRegs, encodeSregs, type Regs, type Sregs } from './regs.js';
import {
  KVM_GET_REGS, KVM_GET_SREGS, KVM_GET_SUPPORTED_CPUID, KVM_SET_CPUID2, KVM_SET_REGS, KVM_SET_SREGS, X86_OFFSETOF,
  X86_SIZEOF,
} from './uapi.js';

const CPUID_MAX_ENT = 256;
let cpuid: NativeRegion | null = null;
/** struct kvm_cpuid2 with room for CPUID_MAX_ENT entries; one per process, kept like scratch(). */
function cpuidRegion(): NativeRegion {
  cpuid ??= new NativeRegion(X86_SIZEOF.kvm_cpuid2 + CPUID_MAX_ENT * X86_SIZEOF.kvm_cpuid_entry2);
  return cpuid;
}

/**
 * KVM_SET_CPUID2 with everything KVM_GET_SUPPORTED_CPUID offers (kvm_util's
 * vm_vcpu_add does the same). Without it a stock kernel's KVM refuses EFER.LME
 * in KVM_SET_SREGS (no X86_FEATURE_LM in the guest CPUID): EINVAL.
 */
export function setSupportedCpuid(vcpu: Vcpu, kvmFd: number): void {
  const r = cpuidRegion();
  r.buf.fill(0);
  r.buf.writeUInt32LE(CPUID_MAX_ENT, X86_OFFSETOF.kvm_cpuid2.nent);
  check(libc.ioctl(kvmFd, KVM_GET_SUPPORTED_CPUID, r.addr), 'KVM_GET_SUPPORTED_CPUID');
  vcpu.ioctl(KVM_SET_CPUID2, r.addr, 'KVM_SET_CPUID2');
}

export function getRegs(vcpu: Vcpu): Regs {
  const s = scratch();
  vcpu.ioctl(KVM_GET_REGS, s.addr, 'KVM_GET_REGS');
  return decodeRegs(s.buf);
}

export function setRegs(vcpu: Vcpu, r: Regs): void {
  const s = scratch();
  encodeRegs(s.buf, r);
  vcpu.ioctl(KVM_SET_REGS, s.addr, 'KVM_SET_REGS');
}

export function getSregs(vcpu: Vcpu): Sregs {
  const s = scratch();
  vcpu.ioctl(KVM_GET_SREGS, s.addr, 'KVM_GET_SREGS');
  return decodeSregs(s.buf);
}

export function setSregs(vcpu: Vcpu, r: Sregs): void {
  const s = scratch();
  encodeSregs(s.buf, r);
  vcpu.ioctl(KVM_SET_SREGS, s.addr, 'KVM_SET_SREGS');
}
