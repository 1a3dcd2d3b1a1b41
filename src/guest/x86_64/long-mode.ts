/**
 * 64-bit long mode, entered directly: the GDT and TSS written into guest memory,
 * and the special registers KVM_SET_SREGS loads (paging on, PAE, EFER.LME|LMA, a
 * 64-bit code segment, flat data segments, a busy 64-bit TSS). No LA57: 4-level paging.
 */
import type { DTable, Segment, Sregs } from '../../kvm/arch/x86_64/regs.js';

export const CR0_PE = 1n << 0n;
export const CR0_MP = 1n << 1n;
export const CR0_ET = 1n << 4n;
export const CR0_NE = 1n << 5n;
export const CR0_WP = 1n << 16n;
export const CR0_AM = 1n << 18n;
export const CR0_PG = 1n << 31n;
export const CR4_PAE = 1n << 5n;
export const EFER_LME = 1n << 8n;
export const EFER_LMA = 1n << 10n;

/** 0x80050033: PE, MP, ET, NE, WP, AM, PG (the CR0 kvm_util gives a long-mode vCPU). */
export const LONG_MODE_CR0 = CR0_PG | CR0_AM | CR0_WP | CR0_NE | CR0_ET | CR0_MP | CR0_PE;

export const SEL_CODE = 0x08;
export const SEL_DATA = 0x10;
export const SEL_TSS = 0x18;
/** GDT: null, code, data, and the 16-byte TSS descriptor. */
export const GDT_BYTES = 0x28;
export const TSS_LIMIT = 0x67;

/** Segment types (the descriptor's 4-bit type field). */
const TYPE_CODE_XR_ACCESSED = 0xb;
const TYPE_DATA_RW_ACCESSED = 0x3;
const TYPE_TSS64_BUSY = 0xb;

function segment(over: Partial<Segment>): Segment {
  return { base: 0n, limit: 0, selector: 0, type: 0, present: 0, dpl: 0, db: 0, s: 0, l: 0, g: 0, avl: 0, unusable: 0, ...over };
}

export const codeSegment = (): Segment =>
  segment({ limit: 0xffffffff, selector: SEL_CODE, type: TYPE_CODE_XR_ACCESSED, present: 1, s: 1, l: 1, g: 1 });
export const dataSegment = (): Segment =>
  segment({ limit: 0xffffffff, selector: SEL_DATA, type: TYPE_DATA_RW_ACCESSED, present: 1, s: 1, db: 1, g: 1 });
export const tssSegment = (tssGpa: number): Segment =>
  segment({ base: BigInt(tssGpa), limit: TSS_LIMIT, selector: SEL_TSS, type: TYPE_TSS64_BUSY, present: 1 });

/** A legacy (8-byte) descriptor's bits from a Segment. */
function descriptor(s: Segment): bigint {
  const base = s.base & 0xffffffffn;
  // With g = 1 the descriptor holds the limit in 4 KiB units.
  const limit = BigInt(s.g ? s.limit >>> 12 : s.limit) & 0xfffffn;
  return (limit & 0xffffn)
    | ((base & 0xffffffn) << 16n)
    | (BigInt(s.type) << 40n) | (BigInt(s.s) << 44n) | (BigInt(s.dpl) << 45n) | (BigInt(s.present) << 47n)
    | ((limit >> 16n) << 48n)
    | (BigInt(s.avl) << 52n) | (BigInt(s.l) << 53n) | (BigInt(s.db) << 54n) | (BigInt(s.g) << 55n)
    | ((base >> 24n) << 56n);
}

/** Writes the GDT at `gdt` (a Buffer over its bytes); returns GDTR. */
export function writeGdt(gdt: Buffer, gdtGpa: number, tssGpa: number): DTable {
  gdt.fill(0, 0, GDT_BYTES);
  gdt.writeBigUInt64LE(descriptor(codeSegment()), SEL_CODE);
  gdt.writeBigUInt64LE(descriptor(dataSegment()), SEL_DATA);
  const tss = tssSegment(tssGpa);
  gdt.writeBigUInt64LE(descriptor(tss), SEL_TSS);
  gdt.writeBigUInt64LE(tss.base >> 32n, SEL_TSS + 8);
  return { base: BigInt(gdtGpa), limit: GDT_BYTES - 1 };
}

/** `base` (KVM_GET_SREGS of a new vCPU) switched to 64-bit long mode with CR3 = `cr3`. */
export function longModeSregs(base: Sregs, cr3: number, gdt: DTable, tssGpa: number): Sregs {
  const data = dataSegment();
  return {
    ...base,
    cs: codeSegment(),
    ds: data, es: { ...data }, fs: { ...data }, gs: { ...data }, ss: { ...data },
    tr: tssSegment(tssGpa),
    ldt: segment({ unusable: 1 }),
    gdt,
    idt: { base: 0n, limit: 0 },
    cr0: LONG_MODE_CR0,
    cr3: BigInt(cr3),
    cr4: CR4_PAE,
    efer: EFER_LME | EFER_LMA,
  };
}
