/** The KVM system fd (/dev/kvm): API version, capabilities, VM creation. */
import { OwnedFd } from './fd.js';
import { check, libc, SyscallError } from './libc.js';
import { fail, ok, type Result } from './result.js';
import { KVM_CHECK_EXTENSION, KVM_CREATE_VM, KVM_GET_API_VERSION, KVM_GET_VCPU_MMAP_SIZE } from './uapi/kvm.js';
import { O_CLOEXEC, O_RDWR } from './uapi/linux.js';
import { Vm } from './vm.js';

export const DEFAULT_DEVICE = '/dev/kvm';

export class Kvm extends OwnedFd {
  readonly path: string;

  private constructor(fd: number, path: string) {
    super(fd, path);
    this.path = path;
  }

  /** open(path, O_RDWR); the failure's errno tells why (ENOENT, EACCES, ENODEV...). */
  static tryOpen(path: string = DEFAULT_DEVICE): Result<Kvm> {
    const r = libc.open(path, O_RDWR | O_CLOEXEC);
    return r.ret < 0 ? fail(r.errno) : ok(new Kvm(r.ret, path));
  }

  static open(path: string = DEFAULT_DEVICE): Kvm {
    const r = Kvm.tryOpen(path);
    if (!r.ok) throw new SyscallError(`open(${path})`, r.errno);
    return r.value;
  }

  apiVersion(): number {
    return check(libc.ioctl(this.fd, KVM_GET_API_VERSION, 0), 'KVM_GET_API_VERSION');
  }

  /** KVM_CHECK_EXTENSION on the system fd (kvm_check_cap). */
  checkExtension(cap: number): number {
    return check(libc.ioctl(this.fd, KVM_CHECK_EXTENSION, cap), `KVM_CHECK_EXTENSION(${cap})`);
  }

  vcpuMmapSize(): number {
    return check(libc.ioctl(this.fd, KVM_GET_VCPU_MMAP_SIZE, 0), 'KVM_GET_VCPU_MMAP_SIZE');
  }

  /** KVM_CREATE_VM, returning the errno instead of throwing. */
  tryCreateVm(type: number): Result<Vm> {
    const r = libc.ioctl(this.fd, KVM_CREATE_VM, type);
    return r.ret < 0 ? fail(r.errno) : ok(new Vm(r.ret, this, type));
  }

  /** KVM_CREATE_VM (vm_create_barebones_type): throws on failure. */
  createVm(type: number): Vm {
    const r = this.tryCreateVm(type);
    if (!r.ok) throw new SyscallError(`KVM_CREATE_VM(type ${type})`, r.errno);
    return r.value;
  }
}
