/**
 * Native memory owned from JS: an anonymous private mapping, its address (to hand to
 * the kernel) and a zero-copy Buffer over it (to fill and read structs).
 */
import { bufferAt, check, libc } from './libc.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from './uapi/linux.js';

export class NativeRegion implements Disposable {
  readonly addr: number;
  readonly size: number;
  #buf: Buffer | null;

  constructor(size: number) {
    this.size = size;
    this.addr = check(libc.mmap(0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
      'mmap(anonymous scratch)');
    this.#buf = bufferAt(this.addr, size);
  }

  /** The bytes; throws once the region is freed, so no Buffer outlives it through here. */
  get buf(): Buffer {
    if (this.#buf === null) throw new Error('NativeRegion used after free');
    return this.#buf;
  }

  free(): void {
    if (this.#buf === null) return;
    this.#buf = null;
    libc.munmap(this.addr, this.size);
  }

  [Symbol.dispose](): void {
    this.free();
  }
}

let shared: NativeRegion | null = null;

/**
 * A process-wide page of scratch memory for marshalling one struct at a time.
 * Single-threaded use only: whatever a call leaves there is overwritten by the next.
 */
export function scratch(): NativeRegion {
  shared ??= new NativeRegion(4096);
  return shared;
}
