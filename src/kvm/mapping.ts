/**
 * A Mapping owns one mmap()ed region and unmaps it deterministically. Its bytes are
 * exposed as a zero-copy Buffer over the mapping itself (every read is a real load
 * from the mapped page, every write a real store); the Buffer is handed out only while
 * the mapping exists.
 */
import { bufferAt, check, libc, type SysResult } from './libc.js';
import { fail, ok, type Result } from './result.js';
import { hex } from './hex.js';

export class Mapping implements Disposable {
  readonly addr: number;
  readonly length: number;
  #mem: Buffer | null = null;
  #unmapped = false;

  constructor(addr: number, length: number) {
    this.addr = addr;
    this.length = length;
  }

  /** mmap(2), returning the errno instead of throwing. */
  static tryMap(addr: number, length: number, prot: number, flags: number, fd: number, offset = 0): Result<Mapping> {
    const r = libc.mmap(addr, length, prot, flags, fd, offset);
    return r.ret < 0 ? fail(r.errno) : ok(new Mapping(r.ret, length));
  }

  /** mmap(2) that throws (kvm_mmap). */
  static map(addr: number, length: number, prot: number, flags: number, fd: number, offset = 0): Mapping {
    const r = libc.mmap(addr, length, prot, flags, fd, offset);
    return new Mapping(check(r, `mmap(len ${length}, fd ${fd})`), length);
  }

  get unmapped(): boolean {
    return this.#unmapped;
  }

  /** The mapped bytes. Throws once unmapped: a stale Buffer would fault the process. */
  get mem(): Buffer {
    if (this.#unmapped) throw new Error(`mapping at ${hex(this.addr)} used after munmap`);
    this.#mem ??= bufferAt(this.addr, this.length);
    return this.#mem;
  }

  madvise(offset: number, length: number, advice: number): SysResult {
    return libc.madvise(this.addr + offset, length, advice);
  }

  /** munmap once; later calls do nothing. */
  unmap(): SysResult {
    if (this.#unmapped) return { ret: 0, errno: 0 };
    this.#unmapped = true;
    this.#mem = null;
    return libc.munmap(this.addr, this.length);
  }

  [Symbol.dispose](): void {
    this.unmap();
  }
}
