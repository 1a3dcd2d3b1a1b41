/**
 * arm64 vCPU state through the VM and vCPU fds: the target KVM prefers for this host
 * (KVM_ARM_PREFERRED_TARGET), the vCPU's reset to it (KVM_ARM_VCPU_INIT), and single
 * registers by id (KVM_GET/SET_ONE_REG): arm64 KVM has no KVM_GET/SET_REGS.
 */
import { check, libc } from '../../libc.js';
import { scratch } from '../../native.js';
import type { Vcpu } from '../../vcpu.js';
import type { Vm } from '../../vm.js';
import { hex } from '../../hex.js';
import {
  ARM64_OFFSETOF, ARM64_SIZEOF, KVM_ARM_PREFERRED_TARGET, KVM_ARM_VCPU_INIT, KVM_GET_ONE_REG, KVM_SET_ONE_REG,
  KVM_VCPU_INIT_FEATURE_WORDS,
} from './uapi.js';

/** struct kvm_vcpu_init. */
export interface VcpuInit {
  target: number;
  /** KVM_VCPU_INIT_FEATURE_WORDS bitmaps of KVM_ARM_VCPU_* features. */
  features: number[];
}

const INIT = ARM64_OFFSETOF.kvm_vcpu_init;
const ONE = ARM64_OFFSETOF.kvm_one_reg;
/** Where in the scratch page the register value lives (after the kvm_one_reg). */
const VALUE_AT = 64;

/** KVM_ARM_PREFERRED_TARGET on the VM fd. */
export function preferredTarget(vm: Vm): VcpuInit {
  const s = scratch();
  s.buf.fill(0, 0, ARM64_SIZEOF.kvm_vcpu_init);
  check(libc.ioctl(vm.fd, KVM_ARM_PREFERRED_TARGET, s.addr), 'KVM_ARM_PREFERRED_TARGET');
  const features: number[] = [];
  for (let i = 0; i < KVM_VCPU_INIT_FEATURE_WORDS; i++) features.push(s.buf.readUInt32LE(INIT.features + 4 * i));
  return { target: s.buf.readUInt32LE(INIT.target), features };
}

/** KVM_ARM_VCPU_INIT on the vCPU fd. */
export function vcpuInit(vcpu: Vcpu, init: VcpuInit): void {
  if (init.features.length > KVM_VCPU_INIT_FEATURE_WORDS) throw new RangeError('too many feature words');
  const s = scratch();
  s.buf.fill(0, 0, ARM64_SIZEOF.kvm_vcpu_init);
  s.buf.writeUInt32LE(init.target >>> 0, INIT.target);
  init.features.forEach((w, i) => s.buf.writeUInt32LE(w >>> 0, INIT.features + 4 * i));
  vcpu.ioctl(KVM_ARM_VCPU_INIT, s.addr, `KVM_ARM_VCPU_INIT(target ${init.target})`);
}

/** KVM_SET_ONE_REG of a 64-bit register. */
export function setOneReg(vcpu: Vcpu, id: bigint, value: number | bigint): void {
  const s = scratch();
  s.buf.writeBigUInt64LE(id, ONE.id);
  s.buf.writeBigUInt64LE(BigInt(s.addr + VALUE_AT), ONE.addr);
  s.buf.writeBigUInt64LE(BigInt.asUintN(64, BigInt(value)), VALUE_AT);
  vcpu.ioctl(KVM_SET_ONE_REG, s.addr, `KVM_SET_ONE_REG(${hex(id)})`);
}

/** KVM_GET_ONE_REG of a 64-bit register. */
export function getOneReg(vcpu: Vcpu, id: bigint): bigint {
  const s = scratch();
  s.buf.writeBigUInt64LE(id, ONE.id);
  s.buf.writeBigUInt64LE(BigInt(s.addr + VALUE_AT), ONE.addr);
  s.buf.writeBigUInt64LE(0n, VALUE_AT);
  vcpu.ioctl(KVM_GET_ONE_REG, s.addr, `KVM_GET_ONE_REG(${hex(id)})`);
  return s.buf.readBigUInt64LE(VALUE_AT);
}
