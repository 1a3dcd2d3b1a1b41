/** A plain memfd (memfd_create(2)): a file that is not a guest_memfd, for the binding checks. */
import { OwnedFd } from './fd.js';
import { check, libc } from './libc.js';
import { MFD_CLOEXEC } from './uapi/linux.js';

export class Memfd extends OwnedFd {
  readonly size: number;

  private constructor(fd: number, size: number) {
    super(fd, `memfd(size ${size})`);
    this.size = size;
  }

  /** memfd_create(name), then fallocate(0, size) to give it `size` bytes of memory. Throws. */
  static create(name: string, size: number): Memfd {
    const fd = check(libc.memfd_create(name, MFD_CLOEXEC), `memfd_create(${name})`);
    const memfd = new Memfd(fd, size);
    try {
      check(libc.fallocate(fd, 0, 0, size), `fallocate(memfd, 0, 0, ${size})`);
    } catch (e) {
      memfd.close();
      throw e;
    }
    return memfd;
  }
}
