/**
 * The guest-to-host report ("ucall") of the arm64 guest, the way upstream's arm64 ucall
 * leaves the guest: one 64-bit store to UCALL_GPA, where no memslot is. That is a data
 * abort KVM cannot serve from memory; its syndrome is valid (a single-register STR), so
 * KVM_RUN returns KVM_EXIT_MMIO with phys_addr = UCALL_GPA, is_write, len 8, and the
 * stored value as data. Upstream stores a pointer to a struct ucall in guest memory; here
 * the stored value is the report's kind and its two arguments are in x0 and x1, read with
 * KVM_GET_ONE_REG (the same report as the x86 guest's port-I/O ucall).
 *
 * An exception taken by the guest (the vector table of vectors.ts) is reported the same
 * way with kind UCALL_EXCEPTION: x0 = ESR_EL1, x1 = FAR_EL1, x2 = ELR_EL1, x3 = which of
 * the 16 vectors.
 */
import { KVM_EXIT_MMIO } from '../../kvm/uapi/kvm.js';
import type { MmioExit, VcpuExit } from '../../kvm/exits.js';
import type { Ucall } from '../types.js';
import { UCALL_GPA } from './layout.js';

export { UCALL_GPA } from './layout.js';

export const UCALL_DONE = 1;
export const UCALL_ASSERT = 2;
export const UCALL_EXCEPTION = 3;

/** Whether an exit is a ucall: an 8-byte MMIO write to UCALL_GPA. */
export function isUcallExit(e: VcpuExit): e is MmioExit & { name: string } {
  if (e.reason !== KVM_EXIT_MMIO) return false;
  const m = e as MmioExit;
  return m.isWrite && m.len === 8 && m.physAddr === BigInt(UCALL_GPA);
}

/** The kind the guest stored (the MMIO data, little-endian). */
export function ucallKind(e: MmioExit): bigint {
  return e.data.readBigUInt64LE(0);
}

/** The ucall, given its kind and x0, x1. */
export function decodeUcall(kind: bigint, x0: bigint, x1: bigint): Ucall {
  if (kind === BigInt(UCALL_DONE)) return { kind: 'DONE' };
  if (kind === BigInt(UCALL_ASSERT)) return { kind: 'ASSERT', arg0: x0, arg1: x1 };
  return { kind: 'UNKNOWN', code: kind, arg0: x0, arg1: x1 };
}
