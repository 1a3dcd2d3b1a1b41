/**
 * The capability probe: what this host's KVM says about guest_memfd, for the system
 * fd and for each VM type (KVM_CAP_GUEST_MEMFD_FLAGS is a per-VM answer).
 */
import { hostInfo, type HostInfo } from './host.js';
import { Kvm } from './kvm.js';
import { KVM_CAP_GUEST_MEMFD, KVM_CAP_GUEST_MEMFD_FLAGS, KVM_CAP_VM_TYPES } from './uapi/kvm.js';
import { VM_TYPES, vmTypeName } from './vm-types.js';
import { ARCH } from './arch/index.js';
import { hex } from './hex.js';

export interface VmTypeCaps {
  type: number;
  name: string;
  /** Set in KVM_CAP_VM_TYPES (or the default VM where that capability is 0). */
  advertised: boolean;
  /** KVM_CREATE_VM worked for this type. */
  created: boolean;
  /** Why the type cannot be tested here, when it cannot. */
  skipReason: string | null;
  /** KVM_CAP_GUEST_MEMFD_FLAGS asked on a VM of this type. */
  guestMemfdFlags: number | null;
  /** KVM_CAP_GUEST_MEMFD asked on a VM of this type. */
  guestMemfd: number | null;
}

export interface Caps extends HostInfo {
  device: string;
  apiVersion: number;
  capGuestMemfd: number;
  capVmTypes: number;
  capGuestMemfdFlags: number;
  vmTypes: VmTypeCaps[];
}


/** The VM types to test: each bit of KVM_CAP_VM_TYPES, the default VM when it is 0. */
export function vmTypeBits(capVmTypes: number): number[] {
  if (capVmTypes === 0) return [ARCH.defaultVmType];
  const out: number[] = [];
  for (let t = 0; t < 32; t++) if (capVmTypes & (1 << t)) out.push(t);
  return out;
}

function probeVmType(kvm: Kvm, type: number, advertised: boolean, capVmTypes: number): VmTypeCaps {
  const base = { type, name: vmTypeName(type), advertised, created: false, guestMemfdFlags: null, guestMemfd: null };
  if (!advertised) {
    return { ...base, skipReason: `VM type ${type} not in KVM_CAP_VM_TYPES (${hex(capVmTypes)})` };
  }
  const r = kvm.tryCreateVm(type);
  if (!r.ok) return { ...base, skipReason: `KVM_CREATE_VM(type ${type}) failed: ${r.errnoName}` };
  using vm = r.value;
  return {
    ...base,
    created: true,
    skipReason: null,
    guestMemfd: vm.checkExtension(KVM_CAP_GUEST_MEMFD),
    guestMemfdFlags: vm.checkExtension(KVM_CAP_GUEST_MEMFD_FLAGS),
  };
}

/** Asks everything of an open Kvm. Throws only on a failing KVM_CHECK_EXTENSION. */
export function probeCaps(kvm: Kvm, host: HostInfo = hostInfo()): Caps {
  const capVmTypes = kvm.checkExtension(KVM_CAP_VM_TYPES);
  const wanted = new Set(vmTypeBits(capVmTypes));
  const types = new Set<number>([...VM_TYPES.map((t) => t.type), ...wanted]);
  return {
    ...host,
    device: kvm.path,
    apiVersion: kvm.apiVersion(),
    capGuestMemfd: kvm.checkExtension(KVM_CAP_GUEST_MEMFD),
    capVmTypes,
    capGuestMemfdFlags: kvm.checkExtension(KVM_CAP_GUEST_MEMFD_FLAGS),
    vmTypes: [...types].sort((a, b) => a - b).map((t) => probeVmType(kvm, t, wanted.has(t), capVmTypes)),
  };
}
