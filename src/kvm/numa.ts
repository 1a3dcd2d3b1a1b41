/**
 * NUMA memory policy syscalls (numbers from the architecture's table, arch/), through libc.syscall with
 * their pointer arguments in the process's scratch page: mbind(2), get_mempolicy(2),
 * move_pages(2). Node masks are bigints (bit n = node n).
 *
 * maxnode: the kernel reads `maxnode - 1` bits of a mask passed in (mbind), and
 * get_mempolicy() refuses a maxnode below the number of possible node ids and writes
 * whole longs (ALIGN(maxnode - 1, 64) / 8 bytes) of the mask out.
 */
import { EPERM, ENOSYS } from './errno.js';
import { libc, type SysResult } from './libc.js';
import { scratch } from './native.js';
import { fail, ok, type Result } from './result.js';
import { ARCH } from './arch/index.js';

/** How much of the scratch page these calls use (what a remote Syscaller must carry over). */
export const NUMA_SCRATCH_BYTES = 4096;

// Scratch page layout.
const MASK_IN = 0; // up to 256 bytes
const POLICY = 256; // int
const PAGES = 512; // up to MAX_PAGES pointers
const STATUS = 1536; // up to MAX_PAGES ints
const MASK_OUT = 2048; // up to 2048 bytes
export const MAX_PAGES = 128;
const MAX_MASK_IN_BITS = 256 * 8;
const MAX_MASK_OUT_BITS = 2048 * 8;

const maskBytes = (maxnode: number): number => Math.ceil(Math.max(maxnode - 1, 1) / 64) * 8;

function writeMask(buf: Buffer, at: number, mask: bigint, maxnode: number): void {
  if (maxnode > MAX_MASK_IN_BITS) throw new RangeError(`maxnode ${maxnode} too large`);
  const words = maskBytes(maxnode) / 8;
  for (let w = 0; w < words; w++) buf.writeBigUInt64LE((mask >> BigInt(64 * w)) & 0xffffffffffffffffn, at + 8 * w);
}

function readMask(buf: Buffer, at: number, maxnode: number): bigint {
  let mask = 0n;
  const words = maskBytes(maxnode) / 8;
  for (let w = 0; w < words; w++) mask |= buf.readBigUInt64LE(at + 8 * w) << BigInt(64 * w);
  return mask;
}

/**
 * Who makes the system call: this process (libc.syscall), or another address space that
 * sees this process's scratch page (the access helper's remote syscalls): the pointer
 * arguments below always point into scratch().
 */
export type Syscaller = (nr: number, ...args: number[]) => SysResult;
const local: Syscaller = (nr, ...args) => libc.syscall(nr, ...args);

/** mbind(addr, len, mode, nodemask, maxnode, flags); a null mask passes NULL. */
export function mbind(addr: number, len: number, mode: number, nodemask: bigint | null, maxnode: number,
  flags = 0, sys: Syscaller = local): SysResult {
  const s = scratch();
  if (nodemask !== null) writeMask(s.buf, MASK_IN, nodemask, maxnode);
  return sys(ARCH.sys.mbind, addr, len, mode, nodemask === null ? 0 : s.addr + MASK_IN, maxnode, flags);
}

export interface Mempolicy {
  readonly policy: number;
  readonly nodemask: bigint;
}

/** get_mempolicy(&policy, &nodemask, maxnode, addr, flags). */
export function getMempolicy(addr: number, maxnode: number, flags: number, sys: Syscaller = local): Result<Mempolicy> {
  if (maxnode > MAX_MASK_OUT_BITS) throw new RangeError(`maxnode ${maxnode} too large`);
  const s = scratch();
  s.buf.fill(0, MASK_OUT, MASK_OUT + maskBytes(maxnode));
  s.buf.writeInt32LE(-1, POLICY);
  const r = sys(ARCH.sys.get_mempolicy, s.addr + POLICY, s.addr + MASK_OUT, maxnode, addr, flags);
  if (r.ret < 0) return fail(r.errno);
  return ok({ policy: s.buf.readInt32LE(POLICY), nodemask: readMask(s.buf, MASK_OUT, maxnode) });
}

export interface MovePagesResult {
  readonly r: SysResult;
  /** Per page: the node it is on, or a negative errno (e.g. -ENOENT when not present). */
  readonly status: number[];
}

/** move_pages(pid, count, pages, NULL, status, flags): where each page is, moving none. */
export function queryPageNodes(addrs: readonly number[], pid = 0, flags = 0, sys: Syscaller = local): MovePagesResult {
  if (addrs.length > MAX_PAGES) throw new RangeError(`at most ${MAX_PAGES} pages`);
  const s = scratch();
  addrs.forEach((a, i) => { s.buf.writeBigUInt64LE(BigInt(a), PAGES + 8 * i); });
  s.buf.fill(0x7f, STATUS, STATUS + 4 * addrs.length);
  const r = sys(ARCH.sys.move_pages, pid, addrs.length, s.addr + PAGES, 0, s.addr + STATUS, flags);
  const status = addrs.map((_, i) => s.buf.readInt32LE(STATUS + 4 * i));
  return { r, status };
}

/** Upstream's is_numa_available(): get_mempolicy() with no arguments is not ENOSYS/EPERM. */
export function numaAvailable(): boolean {
  const r = libc.syscall(ARCH.sys.get_mempolicy, 0, 0, 0, 0, 0);
  return r.ret >= 0 || (r.errno !== ENOSYS && r.errno !== EPERM);
}

