/**
 * Opens the KVM device and checks it can run anything at all. Each way it cannot
 * (missing, no permission, not KVM, no guest_memfd) is a reason to skip the whole run:
 * `reason` reads the same on every host, `detail` says what this host answered.
 */
import { Kvm } from '../kvm/kvm.js';
import { SyscallError } from '../kvm/libc.js';
import { KVM_API_VERSION, KVM_CAP_GUEST_MEMFD } from '../kvm/uapi/kvm.js';

export type DeviceResult = { ok: true; kvm: Kvm } | { ok: false; reason: string; detail: string };

const WHY: Record<string, string> = {
  ENOENT: 'no such device',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'is a directory',
  ENXIO: 'no driver behind this device',
  ENODEV: 'no driver behind this device',
};

export const NO_DEVICE = 'no usable KVM device';
export const NO_PERMISSION = 'no permission on the KVM device';
export const NOT_KVM = 'not a KVM device';
export const API_MISMATCH = 'unsupported KVM API version';
export const NO_GUEST_MEMFD = 'no KVM_CAP_GUEST_MEMFD';

export function openDevice(path: string): DeviceResult {
  const r = Kvm.tryOpen(path);
  // Out of fds is this process's problem, not the host's: a failure, not a skip.
  if (!r.ok && (r.errnoName === 'EMFILE' || r.errnoName === 'ENFILE')) throw new SyscallError(`open(${path})`, r.errno);
  if (!r.ok) {
    const reason = r.errnoName === 'EACCES' || r.errnoName === 'EPERM' ? NO_PERMISSION : NO_DEVICE;
    return { ok: false, reason, detail: `cannot open ${path}: ${r.errnoName} (${WHY[r.errnoName] ?? 'open failed'})` };
  }
  const kvm = r.value;
  const fail = (reason: string, detail: string): DeviceResult => {
    kvm.close();
    return { ok: false, reason, detail };
  };
  let api: number;
  try {
    api = kvm.apiVersion();
  } catch (e) {
    return fail(NOT_KVM, `${path} is not a KVM device: ${(e as Error).message}`);
  }
  if (api !== KVM_API_VERSION) return fail(API_MISMATCH, `${path}: KVM API version ${api}, expected ${KVM_API_VERSION}`);
  let gmem: number;
  try {
    gmem = kvm.checkExtension(KVM_CAP_GUEST_MEMFD);
  } catch (e) {
    return fail(NO_GUEST_MEMFD, `${path}: ${(e as Error).message}`);
  }
  if (gmem <= 0) return fail(NO_GUEST_MEMFD, `KVM_CAP_GUEST_MEMFD is ${gmem}: this kernel has no guest_memfd`);
  return { ok: true, kvm };
}
