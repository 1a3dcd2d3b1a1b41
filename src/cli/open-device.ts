/**
 * Opens the KVM device and checks it can run anything at all. Each way it cannot
 * (missing, no permission, not KVM, no guest_memfd) is a reason to skip the whole run.
 */
import { Kvm } from '../kvm/kvm.js';
import { SyscallError } from '../kvm/libc.js';
import { KVM_API_VERSION, KVM_CAP_GUEST_MEMFD } from '../kvm/uapi/kvm.js';

export type DeviceResult = { ok: true; kvm: Kvm } | { ok: false; reason: string };

const WHY: Record<string, string> = {
  ENOENT: 'no such device',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'is a directory',
  ENXIO: 'no driver behind this device',
  ENODEV: 'no driver behind this device',
};

export function openDevice(path: string): DeviceResult {
  const r = Kvm.tryOpen(path);
  // Out of fds is this process's problem, not the host's: a failure, not a skip.
  if (!r.ok && (r.errnoName === 'EMFILE' || r.errnoName === 'ENFILE')) throw new SyscallError(`open(${path})`, r.errno);
  if (!r.ok) return { ok: false, reason: `cannot open ${path}: ${r.errnoName} (${WHY[r.errnoName] ?? 'open failed'})` };
  const kvm = r.value;
  const fail = (reason: string): DeviceResult => {
    kvm.close();
    return { ok: false, reason };
  };
  let api: number;
  try {
    api = kvm.apiVersion();
  } catch (e) {
    return fail(`${path} is not a KVM device: ${(e as Error).message}`);
  }
  if (api !== KVM_API_VERSION) return fail(`${path}: KVM API version ${api}, expected ${KVM_API_VERSION}`);
  let gmem: number;
  try {
    gmem = kvm.checkExtension(KVM_CAP_GUEST_MEMFD);
  } catch (e) {
    return fail(`${path}: ${(e as Error).message}`);
  }
  if (gmem <= 0) return fail(`KVM_CAP_GUEST_MEMFD is ${gmem}: this kernel has no guest_memfd`);
  return { ok: true, kvm };
}
