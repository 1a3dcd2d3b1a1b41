/** The guest_memfd flag sets a VM type is tested with, and their stable names. */
import { GUEST_MEMFD_FLAG_INIT_SHARED, GUEST_MEMFD_FLAG_MMAP } from '../kvm/uapi/kvm.js';
import { hex } from '../kvm/hex.js';

export type MatrixMode = 'all' | 'upstream';

const KNOWN: readonly [number, string][] = [
  [GUEST_MEMFD_FLAG_MMAP, 'mmap'],
  [GUEST_MEMFD_FLAG_INIT_SHARED, 'init_shared'],
];

/**
 * The bits of `flags` gmemtest does not know. A bit's meaning differs from tree to tree
 * (bit 2 is NO_DIRECT_MAP in one, HUGETLB or MIGRATABLE in others; bit 1 was INIT_PRIVATE
 * in RFC trees), so a set holding one is not guessed at: it is listed, and skipped.
 */
export function unknownBits(flags: number): number[] {
  const out: number[] = [];
  for (let bit = 0; bit < 31; bit++) {
    const f = 1 << bit;
    if ((flags & f) !== 0 && !KNOWN.some(([k]) => k === f)) out.push(bit);
  }
  return out;
}

/** Why a flag set is not run: its unknown bits (stable across hosts). */
export function unknownBitsReason(bits: readonly number[]): string {
  return bits.length === 1 ? `flag bit ${bits[0]} unknown to gmemtest` : `flag bits ${bits.join(', ')} unknown to gmemtest`;
}

/** `flags-none`, `flags-mmap`, `flags-mmap-init_shared`; unknown bits as `bitN`. */
export function flagSetName(flags: number): string {
  if (flags === 0) return 'flags-none';
  const parts: string[] = [];
  for (let bit = 0; bit < 32; bit++) {
    const f = 2 ** bit;
    if ((flags & f) === 0) continue;
    parts.push(KNOWN.find(([k]) => k === f)?.[1] ?? `bit${bit}`);
  }
  return `flags-${parts.join('-')}`;
}

/**
 * Upstream (`test_guest_memfd`): 0, MMAP if supported, MMAP|INIT_SHARED if INIT_SHARED
 * is supported. All: every subset of the supported bits, known or not, in numeric order
 * (MMAP and INIT_SHARED are separate flags, so INIT_SHARED alone is a set of its own);
 * the sets with unknown bits are run by nobody (unknownBits), only listed.
 */
export function flagSets(valid: number, mode: MatrixMode): number[] {
  if (mode === 'upstream') {
    const sets = [0];
    if (valid & GUEST_MEMFD_FLAG_MMAP) sets.push(GUEST_MEMFD_FLAG_MMAP);
    if (valid & GUEST_MEMFD_FLAG_INIT_SHARED) sets.push(GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED);
    return sets;
  }
  const bits: number[] = [];
  for (let bit = 0; bit < 31; bit++) if (valid & (1 << bit)) bits.push(1 << bit);
  if (bits.length > 16) throw new Error(`KVM_CAP_GUEST_MEMFD_FLAGS ${hex(valid)} has too many bits to combine`);
  const sets: number[] = [];
  for (let m = 0; m < 1 << bits.length; m++) {
    sets.push(bits.reduce((acc, b, i) => (m & (1 << i) ? acc | b : acc), 0));
  }
  return sets.sort((a, b) => a - b);
}
