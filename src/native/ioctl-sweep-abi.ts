/** The ioctl sweep's parameter block and program shape, shared by every architecture's generator (see ioctl-sweep.ts). */
import type { ElfMachine } from './elf.js';

/** Byte offsets in the parameter block. */
export const SWEEP_BLOCK = {
  fd: 0,
  request: 8,
  first: 16,
  /** Inclusive. */
  last: 24,
  /** Address of an i64 array with room for last - first + 1 results. */
  out: 32,
  /** The result that lets the loop go on (e.g. -EINVAL). */
  expect: 40,
  /** System call number (the architecture's ioctl; tests point it elsewhere). */
  nr: 48,
  /** Written by the routine: calls issued. */
  issued: 56,
  /** Address of the u64 the routine writes each value to: a field of `arg` (its first by default). */
  field: 64,
  /** The ioctl's argument struct (up to 192 bytes: kvm_userspace_memory_region2 is 160). */
  arg: 128,
  argSize: 192,
  size: 320,
} as const;

/** The exported name in the shared object. */
export const SWEEP_SYMBOL = 'gmemtest_ioctl_sweep';

export interface SweepProgram {
  readonly machine: ElfMachine;
  /** Position-independent machine code; the routine starts at `entry`. */
  readonly code: Uint8Array;
  readonly entry: number;
  /** The architecture's ioctl system call number (the `nr` the routine is normally given). */
  readonly ioctlNr: number;
}
