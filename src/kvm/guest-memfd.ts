/** A guest_memfd: the file operations the ABI defines on it. */
import { OwnedFd } from './fd.js';
import { libc, type SysResult } from './libc.js';
import { Mapping } from './mapping.js';
import { scratch } from './native.js';
import { fail, ok, type Result } from './result.js';
import { ARCH } from './arch/index.js';
import type { Stat } from './structs.js';
import { MAP_SHARED, PROT_READ, PROT_WRITE } from './uapi/linux.js';
import { hex } from './hex.js';

/** The scratch page, after checking `len` bytes fit in it (a kernel could fill them all). */
function scratchFor(len: number): ReturnType<typeof scratch> {
  const s = scratch();
  if (len > s.size) throw new RangeError(`${len} bytes do not fit the ${s.size}-byte scratch page`);
  return s;
}

export class GuestMemfd extends OwnedFd {
  /** Size requested at creation. */
  readonly size: number;
  /** Flags requested at creation. */
  readonly flags: bigint;

  constructor(fd: number, size: number, flags: bigint) {
    super(fd, `guest_memfd(size ${size}, flags ${hex(flags)})`);
    this.size = size;
    this.flags = flags;
  }

  /** read(2) of `len` bytes (at most the scratch page) into scratch memory. */
  read(len: number): SysResult {
    return libc.read(this.fd, scratchFor(len).addr, len);
  }

  /** write(2) of `len` bytes (at most the scratch page) of zeroes. */
  write(len: number): SysResult {
    const s = scratchFor(len);
    s.buf.fill(0, 0, len);
    return libc.write(this.fd, s.addr, len);
  }

  pread(len: number, offset: number): SysResult {
    return libc.pread(this.fd, scratchFor(len).addr, len, offset);
  }

  pwrite(len: number, offset: number): SysResult {
    const s = scratchFor(len);
    s.buf.fill(0, 0, len);
    return libc.pwrite(this.fd, s.addr, len, offset);
  }

  fstat(): Result<Stat> {
    const s = scratch();
    const r = libc.fstat(this.fd, s.addr);
    return r.ret < 0 ? fail(r.errno) : ok(ARCH.stat.decode(s.buf));
  }

  fallocate(mode: number, offset: number, len: number): SysResult {
    return libc.fallocate(this.fd, mode, offset, len);
  }

  /** mmap of this file, returning the errno on failure. Defaults: RW, MAP_SHARED. */
  tryMmap(length: number, prot = PROT_READ | PROT_WRITE, flags = MAP_SHARED, offset = 0): Result<Mapping> {
    return Mapping.tryMap(0, length, prot, flags, this.fd, offset);
  }

  /** mmap of this file that throws (kvm_mmap). */
  mmap(length: number, prot = PROT_READ | PROT_WRITE, flags = MAP_SHARED, offset = 0): Mapping {
    return Mapping.map(0, length, prot, flags, this.fd, offset);
  }
}
