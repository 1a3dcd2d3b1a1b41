// The reference the ioctl sweep's tests compare it with: the same KVM_CREATE_GUEST_MEMFD
// loop, one ffi-rs call per ioctl (used on the host and, bundled, in the arm64 guest).
import { libc } from '../../src/kvm/libc.js';
import { NativeRegion } from '../../src/kvm/native.js';
import { encodeCreateGuestMemfd } from '../../src/kvm/structs.js';
import { KVM_CREATE_GUEST_MEMFD } from '../../src/kvm/uapi/kvm.js';

/** Each size's raw result (a value, closed at once, or -errno), first..last with `flags`. */
export function createGuestMemfdPerCall(vmFd: number, flags: number, first: number, last: number): number[] {
  const out: number[] = [];
  using mem = new NativeRegion(4096);
  for (let size = first; size <= last; size++) {
    encodeCreateGuestMemfd(mem.buf, size, flags);
    const r = libc.ioctl(vmFd, KVM_CREATE_GUEST_MEMFD, mem.addr);
    out.push(r.ret < 0 ? -r.errno : r.ret);
    if (r.ret >= 0) libc.close(r.ret);
  }
  return out;
}
