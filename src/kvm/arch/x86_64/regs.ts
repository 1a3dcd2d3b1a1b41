/**
 * struct kvm_regs and struct kvm_sregs as JS objects, with their encoders and
 * decoders. Layouts come from uapi.ts (checked against the kernel headers by
 * test/unit/uapi.test.ts). Every 64-bit register is a bigint: guest registers can
 * hold any 64-bit value.
 */
import { X86_OFFSETOF as OFFSETOF, X86_SIZEOF as SIZEOF, type RegName, type SegmentName } from './uapi.js';

export type Regs = Record<RegName, bigint>;

const REGS = OFFSETOF.kvm_regs;
const REG_NAMES = Object.keys(REGS) as RegName[];

export function decodeRegs(buf: Buffer): Regs {
  const out = {} as Regs;
  for (const n of REG_NAMES) out[n] = buf.readBigUInt64LE(REGS[n]);
  return out;
}

export function encodeRegs(buf: Buffer, r: Regs): void {
  buf.fill(0, 0, SIZEOF.kvm_regs);
  for (const n of REG_NAMES) buf.writeBigUInt64LE(BigInt.asUintN(64, r[n]), REGS[n]);
}

/** All-zero registers, except rflags bit 1 which is architecturally always set. */
export function initialRegs(): Regs {
  const r = {} as Regs;
  for (const n of REG_NAMES) r[n] = 0n;
  r.rflags = 0x2n;
  return r;
}

/** struct kvm_segment: a segment register's hidden (descriptor-cache) state. */
export interface Segment {
  base: bigint;
  limit: number;
  selector: number;
  type: number;
  present: number;
  dpl: number;
  db: number;
  s: number;
  l: number;
  g: number;
  avl: number;
  unusable: number;
}

/** struct kvm_dtable: GDTR / IDTR. */
export interface DTable {
  base: bigint;
  limit: number;
}

export type Sregs = Record<SegmentName, Segment> & {
  gdt: DTable;
  idt: DTable;
  cr0: bigint;
  cr2: bigint;
  cr3: bigint;
  cr4: bigint;
  cr8: bigint;
  efer: bigint;
  apic_base: bigint;
  /** The 256-bit pending-interrupt bitmap, as four u64 words. */
  interrupt_bitmap: [bigint, bigint, bigint, bigint];
};

const SEG = OFFSETOF.kvm_segment;
const SREGS = OFFSETOF.kvm_sregs;
const SEGMENTS: readonly SegmentName[] = ['cs', 'ds', 'es', 'fs', 'gs', 'ss', 'tr', 'ldt'];
const SEG_BYTES = ['type', 'present', 'dpl', 'db', 's', 'l', 'g', 'avl', 'unusable'] as const;
const CONTROL = ['cr0', 'cr2', 'cr3', 'cr4', 'cr8', 'efer', 'apic_base'] as const;

function decodeSegment(buf: Buffer, at: number): Segment {
  const s = {
    base: buf.readBigUInt64LE(at + SEG.base),
    limit: buf.readUInt32LE(at + SEG.limit),
    selector: buf.readUInt16LE(at + SEG.selector),
  } as Segment;
  for (const f of SEG_BYTES) s[f] = buf.readUInt8(at + SEG[f]);
  return s;
}

function encodeSegment(buf: Buffer, at: number, s: Segment): void {
  buf.fill(0, at, at + SIZEOF.kvm_segment);
  buf.writeBigUInt64LE(s.base, at + SEG.base);
  buf.writeUInt32LE(s.limit >>> 0, at + SEG.limit);
  buf.writeUInt16LE(s.selector, at + SEG.selector);
  for (const f of SEG_BYTES) buf.writeUInt8(s[f], at + SEG[f]);
}

const OFF_DT = OFFSETOF.kvm_dtable;

export function decodeSregs(buf: Buffer): Sregs {
  const out = {} as Sregs;
  for (const seg of SEGMENTS) out[seg] = decodeSegment(buf, SREGS[seg]);
  for (const t of ['gdt', 'idt'] as const) {
    out[t] = { base: buf.readBigUInt64LE(SREGS[t] + OFF_DT.base), limit: buf.readUInt16LE(SREGS[t] + OFF_DT.limit) };
  }
  for (const c of CONTROL) out[c] = buf.readBigUInt64LE(SREGS[c]);
  const ib = SREGS.interrupt_bitmap;
  out.interrupt_bitmap = [0, 1, 2, 3].map((i) => buf.readBigUInt64LE(ib + 8 * i)) as Sregs['interrupt_bitmap'];
  return out;
}

export function encodeSregs(buf: Buffer, s: Sregs): void {
  buf.fill(0, 0, SIZEOF.kvm_sregs);
  for (const seg of SEGMENTS) encodeSegment(buf, SREGS[seg], s[seg]);
  for (const t of ['gdt', 'idt'] as const) {
    buf.writeBigUInt64LE(s[t].base, SREGS[t] + OFF_DT.base);
    buf.writeUInt16LE(s[t].limit, SREGS[t] + OFF_DT.limit);
  }
  for (const c of CONTROL) buf.writeBigUInt64LE(s[c], SREGS[c]);
  s.interrupt_bitmap.forEach((w, i) => buf.writeBigUInt64LE(w, SREGS.interrupt_bitmap + 8 * i));
}
