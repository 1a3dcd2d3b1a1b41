/**
 * A minimal writer for the "newc" cpio format (magic 070701), the format the
 * Linux kernel unpacks as an initramfs.
 *
 * Why our own writer rather than busybox/GNU cpio: the archive holds a
 * character device (/dev/console, needed before devtmpfs is mounted so that
 * /init has a console) and files that only exist in memory (the generated
 * /init, modules decompressed on the host). A writer that takes entries
 * directly needs neither root for mknod, nor a staging directory, nor the
 * host's cpio binary, and its output is byte-for-byte reproducible (fixed
 * mtimes, inode numbers and owners).
 */

const HEADER_LEN = 110;

export interface CpioEntryBase {
  /** Path inside the archive, without a leading slash ("bin/busybox"). */
  name: string;
  /** Permission bits (e.g. 0o755); the file type bits are added per kind. */
  perm: number;
}

export type CpioEntry =
  | (CpioEntryBase & { kind: 'dir' })
  | (CpioEntryBase & { kind: 'file'; data: Uint8Array })
  | (CpioEntryBase & { kind: 'symlink'; target: string })
  | (CpioEntryBase & { kind: 'chardev'; major: number; minor: number });

const TYPE_BITS: Record<CpioEntry['kind'], number> = {
  dir: 0o040000,
  file: 0o100000,
  symlink: 0o120000,
  chardev: 0o020000,
};

function hex8(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) {
    throw new RangeError(`cpio field out of range: ${n}`);
  }
  return n.toString(16).padStart(8, '0');
}

function pad4(n: number): number {
  return (4 - (n % 4)) % 4;
}

/** Collects entries and serialises them to one newc archive. */
export class CpioWriter {
  private readonly chunks: Buffer[] = [];
  private nextIno = 1;
  private readonly names = new Set<string>();

  /** Adds a directory (parents are not implied: add them first). */
  dir(name: string, perm = 0o755): this {
    return this.add({ kind: 'dir', name, perm });
  }

  file(name: string, data: Uint8Array | string, perm = 0o644): this {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    return this.add({ kind: 'file', name, perm, data: bytes });
  }

  symlink(name: string, target: string): this {
    return this.add({ kind: 'symlink', name, perm: 0o777, target });
  }

  chardev(name: string, major: number, minor: number, perm = 0o600): this {
    return this.add({ kind: 'chardev', name, perm, major, minor });
  }

  add(entry: CpioEntry): this {
    const name = entry.name.replace(/^\/+/, '');
    if (name === '' || name.includes('\0')) throw new Error(`bad cpio entry name: ${JSON.stringify(entry.name)}`);
    if (this.names.has(name)) throw new Error(`duplicate cpio entry: ${name}`);
    this.names.add(name);
    let data: Uint8Array = new Uint8Array(0);
    let rdevMajor = 0;
    let rdevMinor = 0;
    if (entry.kind === 'file') data = entry.data;
    else if (entry.kind === 'symlink') data = Buffer.from(entry.target, 'utf8');
    else if (entry.kind === 'chardev') {
      rdevMajor = entry.major;
      rdevMinor = entry.minor;
    }
    this.push(name, TYPE_BITS[entry.kind] | (entry.perm & 0o7777), entry.kind === 'dir' ? 2 : 1, data, rdevMajor, rdevMinor);
    return this;
  }

  private push(name: string, mode: number, nlink: number, data: Uint8Array, rdevMajor: number, rdevMinor: number): void {
    const nameBytes = Buffer.from(name + '\0', 'utf8');
    const header =
      '070701' +
      hex8(this.nextIno++) +
      hex8(mode) +
      hex8(0) + // uid
      hex8(0) + // gid
      hex8(nlink) +
      hex8(0) + // mtime: fixed, for reproducible archives
      hex8(data.length) +
      hex8(0) + // devmajor
      hex8(0) + // devminor
      hex8(rdevMajor) +
      hex8(rdevMinor) +
      hex8(nameBytes.length) +
      hex8(0); // check (unused by newc)
    this.chunks.push(Buffer.from(header, 'ascii'), nameBytes, Buffer.alloc(pad4(HEADER_LEN + nameBytes.length)));
    if (data.length > 0) {
      this.chunks.push(Buffer.from(data.buffer, data.byteOffset, data.length), Buffer.alloc(pad4(data.length)));
    }
  }

  /** The archive, ending with the TRAILER!!! record. The writer can't be reused. */
  finish(): Buffer {
    this.push('TRAILER!!!', 0, 1, new Uint8Array(0), 0, 0);
    const out = Buffer.concat(this.chunks);
    this.chunks.length = 0;
    return out;
  }
}
