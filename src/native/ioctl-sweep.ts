/**
 * The batched ioctl routine (part 11): one FFI crossing for a loop of ioctls whose
 * argument struct differs only in one u64 field, e.g. create_guest_memfd_invalid_sizes's
 * KVM_CREATE_GUEST_MEMFD for size = 1 .. page_size - 1, or add_private_memory_region's
 * KVM_SET_USER_MEMORY_REGION2 for guest_memfd_offset = 1 .. page_size - 1.
 *
 *   for (v = first; v <= last; v++) {
 *     *field = v;                           // a u64 of arg; the rest is the caller's, untouched
 *     ret = syscall(nr, fd, request, &arg); // the raw instruction: ret is a value or -errno
 *     out[v - first] = ret;
 *     if (ret != expect) break;             // stop after the first unexpected result
 *   }
 *   issued = number of calls made; also the return value
 *
 * So the kernel sees the calls upstream's loop makes, in its order, up to and including
 * the first one upstream would assert on; every check stays with the caller, which reads
 * `out`. A successful call (ret >= 0, e.g. a new fd) is such an unexpected result: the
 * caller owns and closes that fd.
 *
 * The routine takes one argument, the address of the parameter block below (all fields
 * u64, little-endian), in the first argument register of the C ABI, and returns `issued`.
 * It touches only that block and `out`, uses no stack beyond its return address, and
 * calls nothing; it is position independent. One generator per architecture
 * (src/native/<arch>/ioctl-sweep.ts) emits it; all share this block and contract.
 */
import { writeSharedObject, type ElfImage, type ElfMachine } from './elf.js';
import { SWEEP_SYMBOL, type SweepProgram } from './ioctl-sweep-abi.js';
import { hostMachine, LOAD_PAGE } from './machine.js';
import { PREBUILT } from './prebuilt.js';
import { arm64IoctlSweep } from './arm64/ioctl-sweep.js';
import { x86_64IoctlSweep } from './x86_64/ioctl-sweep.js';

export { SWEEP_BLOCK, SWEEP_SYMBOL, type SweepProgram } from './ioctl-sweep-abi.js';

/** The routine for `machine`: the prebuilt bytes (prebuilt.ts) unless `fresh`. */
export function ioctlSweepProgram(machine: ElfMachine = hostMachine(), opts: { fresh?: boolean } = {}): SweepProgram {
  const pre = PREBUILT[machine]?.ioctlSweep;
  if (pre && !opts.fresh) {
    return { machine, code: new Uint8Array(Buffer.from(pre.code, 'base64')), entry: pre.entry, ioctlNr: pre.ioctlNr };
  }
  if (machine === 'x86_64') return x86_64IoctlSweep();
  if (machine === 'aarch64') return arm64IoctlSweep();
  throw new Error(`the ioctl sweep has no ${machine as string} generator`);
}

/** The shared object's bytes: prebuilt for the prebuilt program, written otherwise. */
export function ioctlSweepSharedObjectBytes(p: SweepProgram = ioctlSweepProgram()): Uint8Array {
  const pre = PREBUILT[p.machine]?.ioctlSweep;
  if (pre && Buffer.from(p.code).toString('base64') === pre.code && p.entry === pre.entry) {
    return new Uint8Array(Buffer.from(pre.sharedObject, 'base64'));
  }
  return ioctlSweepSharedObject(p).bytes;
}

/** The routine as a shared object exporting {@link SWEEP_SYMBOL}. */
export function ioctlSweepSharedObject(p: SweepProgram = ioctlSweepProgram()): ElfImage {
  return writeSharedObject({ machine: p.machine, code: p.code, soname: 'libgmemtest-sweep.so', pageSize: LOAD_PAGE[p.machine],
    exports: [{ name: SWEEP_SYMBOL, offset: p.entry, size: p.code.length - p.entry }] });
}
