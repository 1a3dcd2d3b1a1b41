/** A VM fd: per-VM capabilities, guest_memfd creation, memslots. */
import { OwnedFd } from './fd.js';
import { GuestMemfd } from './guest-memfd.js';
import { check, libc, SyscallError, type SysResult } from './libc.js';
import { scratch } from './native.js';
import { fail, ok, type Result } from './result.js';
import {
  encodeCreateGuestMemfd, encodeMemoryRegion, encodeMemoryRegion2, type MemoryRegion, type MemoryRegion2,
} from './structs.js';
import { FIOCLEX } from './uapi/linux.js';
import {
  KVM_CHECK_EXTENSION, KVM_CREATE_GUEST_MEMFD, KVM_SET_USER_MEMORY_REGION, KVM_SET_USER_MEMORY_REGION2,
} from './uapi/kvm.js';
import { hex } from './hex.js';

/** Only what a Vm needs from its Kvm, to keep the import graph one-way. */
export interface KvmLike {
  readonly fd: number;
  vcpuMmapSize(): number;
}

export class Vm extends OwnedFd {
  readonly kvm: KvmLike;
  readonly type: number;

  constructor(fd: number, kvm: KvmLike, type: number) {
    super(fd, `vm(type ${type})`);
    this.kvm = kvm;
    this.type = type;
  }

  /** KVM_CHECK_EXTENSION on the VM fd (vm_check_cap): the answer for this VM type. */
  checkExtension(cap: number): number {
    return check(libc.ioctl(this.fd, KVM_CHECK_EXTENSION, cap), `KVM_CHECK_EXTENSION(vm, ${cap})`);
  }

  /** KVM_CREATE_GUEST_MEMFD, returning the errno on failure (__vm_create_guest_memfd). */
  tryCreateGuestMemfd(size: number | bigint, flags: number | bigint): Result<GuestMemfd> {
    const s = scratch();
    encodeCreateGuestMemfd(s.buf, size, flags);
    const r = libc.ioctl(this.fd, KVM_CREATE_GUEST_MEMFD, s.addr);
    if (r.ret < 0) return fail(r.errno);
    // KVM makes the fd without O_CLOEXEC; child processes (probes, the vCPU child) must not
    // inherit every open guest_memfd. A probe gets its one file as fd 3 explicitly.
    libc.ioctl(r.ret, FIOCLEX, 0);
    return ok(new GuestMemfd(r.ret, Number(size), BigInt(flags)));
  }

  /** KVM_CREATE_GUEST_MEMFD that throws on failure (vm_create_guest_memfd). */
  createGuestMemfd(size: number | bigint, flags: number | bigint): GuestMemfd {
    const r = this.tryCreateGuestMemfd(size, flags);
    if (!r.ok) {
      throw new SyscallError(`KVM_CREATE_GUEST_MEMFD(size ${size}, flags ${hex(flags)})`, r.errno);
    }
    return r.value;
  }

  /** KVM_SET_USER_MEMORY_REGION (the first version, no guest_memfd fields), raw. */
  trySetUserMemoryRegion(region: MemoryRegion): SysResult {
    const s = scratch();
    encodeMemoryRegion(s.buf, region);
    return libc.ioctl(this.fd, KVM_SET_USER_MEMORY_REGION, s.addr);
  }

  /** KVM_SET_USER_MEMORY_REGION2, raw. */
  trySetUserMemoryRegion2(region: MemoryRegion2): SysResult {
    const s = scratch();
    encodeMemoryRegion2(s.buf, region);
    return libc.ioctl(this.fd, KVM_SET_USER_MEMORY_REGION2, s.addr);
  }

  /** KVM_SET_USER_MEMORY_REGION2 that throws (vm_set_user_memory_region2). */
  setUserMemoryRegion2(region: MemoryRegion2): void {
    check(this.trySetUserMemoryRegion2(region), `KVM_SET_USER_MEMORY_REGION2(slot ${region.slot})`);
  }
}
