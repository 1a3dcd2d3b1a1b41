/**
 * The batched ioctl routine (src/native/ioctl-sweep.ts) loaded and called: one FFI
 * crossing issues a whole run of ioctls and leaves each raw result (a value, or -errno)
 * in an array the caller checks. Used by create_guest_memfd_invalid_sizes for its
 * page_size - 1 failing KVM_CREATE_GUEST_MEMFD calls, and by add_private_memory_region
 * for its page_size - 1 KVM_SET_USER_MEMORY_REGION2 calls at unaligned offsets.
 */
import { encodeCreateGuestMemfd, encodeMemoryRegion2, OFFSETOF, SIZEOF, type MemoryRegion2 } from '../kvm/structs.js';
import { KVM_CREATE_GUEST_MEMFD, KVM_SET_USER_MEMORY_REGION2 } from '../kvm/uapi/kvm.js';
import { MachineCode, type CodeLoader } from '../kvm/machine-code.js';
import { NativeRegion } from '../kvm/native.js';
import { ioctlSweepProgram, ioctlSweepSharedObjectBytes, SWEEP_BLOCK as B, SWEEP_SYMBOL, type SweepProgram } from '../native/ioctl-sweep.js';

export interface SweepRequest {
  readonly fd: number;
  readonly request: number;
  /** Values for a u64 of the argument struct, first..last inclusive (last - first < 2^20). */
  readonly first: number;
  readonly last: number;
  /** The argument struct (at most SWEEP_BLOCK.argSize bytes); its u64 at `field` is overwritten. */
  readonly arg?: Uint8Array;
  /** Byte offset in `arg` of the u64 that takes each value (default 0, the first). */
  readonly field?: number;
  /** The loop goes on while each call returns exactly this (e.g. -EINVAL). */
  readonly expect: number;
  /** System call number; the architecture's ioctl unless a test points it elsewhere. */
  readonly nr?: number;
}

export interface SweepOutcome {
  /** Calls made: last - first + 1, or fewer when one returned something other than `expect`. */
  readonly issued: number;
  /** Raw result of each call, in order: >= 0 a value (an fd the caller now owns), < 0 -errno. */
  readonly results: readonly number[];
}

const MAX_CALLS = 1 << 20;

export class IoctlSweeper implements Disposable {
  readonly program: SweepProgram;
  readonly code: MachineCode;
  #mem: NativeRegion | null = null;

  private constructor(program: SweepProgram, code: MachineCode) {
    this.program = program;
    this.code = code;
  }

  /**
   * Generates the routine for this machine and loads it: the given way, or by default
   * through dlopen (a mapped file: allowed where W^X policies refuse to make anonymous
   * memory executable) and, where that fails, through bsearch.
   */
  static open(how?: CodeLoader): IoctlSweeper {
    const p = ioctlSweepProgram();
    const viaDlopen = (): MachineCode => MachineCode.fromSharedObject(ioctlSweepSharedObjectBytes(p), SWEEP_SYMBOL);
    const viaBsearch = (): MachineCode => MachineCode.fromCode(p.code, p.entry);
    if (how === 'dlopen') return new IoctlSweeper(p, viaDlopen());
    if (how === 'bsearch') return new IoctlSweeper(p, viaBsearch());
    let code: MachineCode;
    try {
      code = viaDlopen();
    } catch (first) {
      try {
        code = viaBsearch();
      } catch {
        throw first;
      }
    }
    return new IoctlSweeper(p, code);
  }

  #region(bytes: number): NativeRegion {
    if (this.#mem === null || this.#mem.size < bytes) {
      this.#mem?.free();
      this.#mem = new NativeRegion(Math.ceil(bytes / 4096) * 4096);
    }
    return this.#mem;
  }

  run(req: SweepRequest): SweepOutcome {
    const n = req.last - req.first + 1;
    if (!Number.isSafeInteger(req.first) || req.first < 0 || !Number.isSafeInteger(n) || n < 0 || n > MAX_CALLS) {
      throw new RangeError(`sweep ${req.first}..${req.last}: not a run of at most ${MAX_CALLS} values`);
    }
    if (req.arg && req.arg.length > B.argSize) throw new RangeError(`ioctl argument of ${req.arg.length} bytes > ${B.argSize}`);
    const field = req.field ?? 0;
    if (!Number.isInteger(field) || field < 0 || field % 8 !== 0 || field + 8 > B.argSize) {
      throw new RangeError(`sweep field at byte ${field}: not an aligned u64 inside the ${B.argSize}-byte argument`);
    }
    const mem = this.#region(B.size + 8 * Math.max(n, 1));
    const buf = mem.buf;
    const out = mem.addr + B.size;
    buf.fill(0, 0, B.size);
    if (req.arg) buf.set(req.arg, B.arg);
    buf.writeBigInt64LE(BigInt(req.fd), B.fd);
    buf.writeBigUInt64LE(BigInt(req.request), B.request);
    buf.writeBigUInt64LE(BigInt(req.first), B.first);
    buf.writeBigUInt64LE(BigInt(req.last), B.last);
    buf.writeBigUInt64LE(BigInt(out), B.out);
    buf.writeBigInt64LE(BigInt(req.expect), B.expect);
    buf.writeBigUInt64LE(BigInt(req.nr ?? this.program.ioctlNr), B.nr);
    buf.writeBigUInt64LE(BigInt(mem.addr + B.arg + field), B.field);
    buf.writeBigInt64LE(-1n, B.issued);
    this.code.call(mem.addr);
    const issued = Number(buf.readBigInt64LE(B.issued));
    if (!(issued >= 0 && issued <= n)) throw new Error(`ioctl sweep reported ${issued} calls of ${n}`);
    // Each i64 read as two i32 halves (no BigInt per element: this loop runs 4095 times
    // per flag set, and in an emulated guest BigInt arithmetic is what it would cost).
    const words = new Int32Array(buf.buffer, buf.byteOffset + B.size, 2 * issued);
    const results = new Array<number>(issued);
    for (let i = 0; i < issued; i++) {
      const lo = words[2 * i]!;
      const hi = words[2 * i + 1]!;
      results[i] = hi === lo >> 31 ? lo : Number(buf.readBigInt64LE(B.size + 8 * i));
    }
    return { issued, results };
  }

  /**
   * KVM_CREATE_GUEST_MEMFD on `vmFd` for size = first..last with `flags`, going on while
   * each call fails with `expectErrno` (EINVAL for create_guest_memfd_invalid_sizes).
   */
  createGuestMemfdSizes(vmFd: number, flags: number | bigint, first: number, last: number, expectErrno: number): SweepOutcome {
    const arg = Buffer.alloc(B.argSize);
    encodeCreateGuestMemfd(arg, 0, flags);
    return this.run({ fd: vmFd, request: KVM_CREATE_GUEST_MEMFD, first, last, arg, expect: -expectErrno });
  }

  /**
   * KVM_SET_USER_MEMORY_REGION2 on `vmFd` of `region` with guest_memfd_offset = first..last,
   * going on while each call fails with `expectErrno` (EINVAL for add_private_memory_region).
   */
  setMemoryRegion2Offsets(vmFd: number, region: MemoryRegion2, first: number, last: number, expectErrno: number): SweepOutcome {
    const arg = Buffer.alloc(SIZEOF.kvm_userspace_memory_region2);
    encodeMemoryRegion2(arg, region);
    return this.run({ fd: vmFd, request: KVM_SET_USER_MEMORY_REGION2, first, last, arg,
      field: OFFSETOF.kvm_userspace_memory_region2.guest_memfd_offset, expect: -expectErrno });
  }

  close(): void {
    this.#mem?.free();
    this.#mem = null;
    this.code.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
