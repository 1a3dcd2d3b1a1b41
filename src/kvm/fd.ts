/** Base of the classes that own exactly one file descriptor. */
import { libc, type SysResult } from './libc.js';

export class OwnedFd implements Disposable {
  #fd: number;
  readonly what: string;

  constructor(fd: number, what: string) {
    this.#fd = fd;
    this.what = what;
  }

  /** The descriptor; throws after close() so a stale number is never reused by mistake. */
  get fd(): number {
    if (this.#fd < 0) throw new Error(`${this.what}: used after close`);
    return this.#fd;
  }

  get closed(): boolean {
    return this.#fd < 0;
  }

  /** Closes once; later calls do nothing. Returns close(2)'s result. */
  close(): SysResult {
    if (this.#fd < 0) return { ret: 0, errno: 0 };
    const fd = this.#fd;
    this.#fd = -1;
    return libc.close(fd);
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
