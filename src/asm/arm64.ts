/**
 * A tiny AArch64 (A64) assembler: one method per instruction form gmemtest's arm64
 * programs use (the guest code of guest_memfd_guest, its exception vectors, and the
 * host-side programs of src/native/arm64/), each building the 32-bit word the Arm
 * Architecture Reference Manual gives for that form, written little-endian; labels for
 * the PC-relative forms (B, BL, B.cond, CBZ/CBNZ, ADR), resolved by assemble().
 *
 * Registers are named as GNU as names them: x0-x30 / w0-w30, plus xzr/wzr and sp where
 * the form can take them (register number 31 means the zero register in some fields and
 * the stack pointer in others; each method accepts only what its field means). The
 * width of a form is its registers' (x: 64-bit, w: 32-bit; mixing them is refused).
 * Where GNU as has a shorter alias (mov, cmp, cmn, mul), the method is named for the
 * alias and emits the word GNU as emits for it. test/unit/arm64-asm.test.ts checks every
 * form against aarch64-linux-gnu-as when binutils-aarch64-linux-gnu is installed.
 */

export type XReg = `x${number}` | 'xzr' | 'sp';
export type WReg = `w${number}` | 'wzr' | 'wsp';
export type Reg = XReg | WReg;

/** Condition codes of B.cond (the ARM ARM's cond field). */
export type Cond = 'eq' | 'ne' | 'hs' | 'lo' | 'mi' | 'pl' | 'vs' | 'vc' | 'hi' | 'ls' | 'ge' | 'lt' | 'gt' | 'le' | 'al';
const COND: Record<Cond, number> = {
  eq: 0, ne: 1, hs: 2, lo: 3, mi: 4, pl: 5, vs: 6, vc: 7, hi: 8, ls: 9, ge: 10, lt: 11, gt: 12, le: 13, al: 14,
};

/** System registers MRS/MSR name here: [op0, op1, CRn, CRm, op2]. */
export const SYSREG = {
  SCTLR_EL1: [3, 0, 1, 0, 0],
  TTBR0_EL1: [3, 0, 2, 0, 0],
  TCR_EL1: [3, 0, 2, 0, 2],
  SPSR_EL1: [3, 0, 4, 0, 0],
  ELR_EL1: [3, 0, 4, 0, 1],
  CurrentEL: [3, 0, 4, 2, 2],
  ESR_EL1: [3, 0, 5, 2, 0],
  FAR_EL1: [3, 0, 6, 0, 0],
  MAIR_EL1: [3, 0, 10, 2, 0],
  VBAR_EL1: [3, 0, 12, 0, 0],
} as const satisfies Record<string, readonly [number, number, number, number, number]>;
export type SysReg = keyof typeof SYSREG;

/** What register number 31 may mean in a field. */
type R31 = 'zr' | 'sp' | 'none';

interface Parsed {
  n: number;
  /** true: x (64-bit). */
  x: boolean;
}

function parse(r: Reg, r31: R31, what: string): Parsed {
  if (r === 'xzr' || r === 'wzr') {
    if (r31 !== 'zr') throw new Error(`${what}: ${r} is not allowed here`);
    return { n: 31, x: r === 'xzr' };
  }
  if (r === 'sp' || r === 'wsp') {
    if (r31 !== 'sp') throw new Error(`${what}: ${r} is not allowed here`);
    return { n: 31, x: r === 'sp' };
  }
  const m = /^([xw])(\d|[12]\d|30)$/.exec(r);
  if (!m) throw new Error(`${what}: not a register: ${r}`);
  return { n: Number(m[2]), x: m[1] === 'x' };
}

/** All registers of a form have one width; returns it (sf: 1 for 64-bit). */
function width(what: string, ...regs: Parsed[]): number {
  const x = regs[0]!.x;
  if (regs.some((r) => r.x !== x)) throw new Error(`${what}: mixes x and w registers`);
  return x ? 1 : 0;
}

function uimm(v: number, bits: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v >= 2 ** bits) throw new RangeError(`${what}: immediate ${v} does not fit in ${bits} bits`);
  return v;
}

function simm(v: number, bits: number, what: string): number {
  const lim = 2 ** (bits - 1);
  if (!Number.isInteger(v) || v < -lim || v >= lim) throw new RangeError(`${what}: offset ${v} does not fit in ${bits} signed bits`);
  return v < 0 ? v + 2 ** bits : v;
}

type FixKind = 'imm26' | 'imm19' | 'adr';

export class Arm64Asm {
  readonly #words: number[] = [];
  readonly #labels = new Map<string, number>();
  readonly #fixups: { at: number; label: string; kind: FixKind }[] = [];

  /** Current offset in bytes from the start of the program. */
  get here(): number {
    return this.#words.length * 4;
  }

  #emit(word: number): this {
    this.#words.push(word >>> 0);
    return this;
  }

  /** Defines `name` at the current offset. */
  label(name: string): this {
    if (this.#labels.has(name)) throw new Error(`label '${name}' defined twice`);
    this.#labels.set(name, this.here);
    return this;
  }

  /** NOPs up to the next multiple of `bytes` (a power of two, >= 4), as GNU as pads code. */
  align(bytes: number): this {
    if (!Number.isInteger(Math.log2(bytes)) || bytes < 4) throw new RangeError(`alignment ${bytes} is not a power of two >= 4`);
    while (this.here % bytes !== 0) this.nop();
    return this;
  }

  /** A 32-bit data word (a literal pool entry, or a word no form here produces). */
  word(w: number): this {
    return this.#emit(uimm(w, 32, 'word'));
  }

  // ---- moves ----------------------------------------------------------------------------

  /** `movz rd, #imm16, lsl #shift` — MOVZ: rd = imm16 << shift, the rest zero. */
  movz(rd: Reg, imm16: number, shift = 0): this {
    return this.#movWide(0b10, rd, imm16, shift, 'movz');
  }

  /** `movk rd, #imm16, lsl #shift` — MOVK: replaces that halfword, keeps the others. */
  movk(rd: Reg, imm16: number, shift = 0): this {
    return this.#movWide(0b11, rd, imm16, shift, 'movk');
  }

  /** `movn rd, #imm16, lsl #shift` — MOVN: rd = ~(imm16 << shift). */
  movn(rd: Reg, imm16: number, shift = 0): this {
    return this.#movWide(0b00, rd, imm16, shift, 'movn');
  }

  #movWide(opc: number, rd: Reg, imm16: number, shift: number, what: string): this {
    const d = parse(rd, 'zr', what);
    const sf = d.x ? 1 : 0;
    if (![0, 16, 32, 48].includes(shift) || (!d.x && shift > 16)) throw new RangeError(`${what}: shift ${shift}`);
    uimm(imm16, 16, what);
    return this.#emit((sf << 31) | (opc << 29) | (0b100101 << 23) | ((shift / 16) << 21) | (imm16 << 5) | d.n);
  }

  /**
   * Any constant into rd: MOVZ of its lowest non-zero halfword (or of 0), then MOVK for
   * every other non-zero halfword, lowest first (1 to 4 instructions).
   */
  movImm(rd: Reg, value: number | bigint): this {
    const d = parse(rd, 'zr', 'movImm');
    const bits = d.x ? 64 : 32;
    const v = BigInt(value);
    if (v < -(1n << BigInt(bits - 1)) || v >= 1n << BigInt(bits)) throw new RangeError(`movImm: ${value} does not fit ${rd}`);
    const u = BigInt.asUintN(bits, v);
    const halves: number[] = [];
    for (let i = 0; i < bits / 16; i++) halves.push(Number((u >> BigInt(16 * i)) & 0xffffn));
    const nonzero = halves.map((h, i) => [h, i] as const).filter(([h]) => h !== 0);
    if (nonzero.length === 0) return this.movz(rd, 0);
    const [[h0, i0], ...rest] = nonzero as [readonly [number, number], ...(readonly [number, number])[]];
    this.movz(rd, h0, 16 * i0);
    for (const [h, i] of rest) this.movk(rd, h, 16 * i);
    return this;
  }

  /**
   * `mov rd, rn` between general registers — ORR rd, zr, rn (shifted register); with sp
   * on either side GNU as's alias is ADD rd, rn, #0 instead, and so is this.
   */
  mov(rd: Reg, rn: Reg): this {
    if (rd === 'sp' || rn === 'sp' || rd === 'wsp' || rn === 'wsp') return this.addImm(rd, rn, 0);
    const d = parse(rd, 'zr', 'mov');
    const m = parse(rn, 'zr', 'mov');
    const sf = width('mov', d, m);
    return this.#emit((sf << 31) | 0x2a000000 | (m.n << 16) | (31 << 5) | d.n);
  }

  // ---- arithmetic -------------------------------------------------------------------------

  /** `add rd, rn, #imm12` (optionally `lsl #12`) — ADD (immediate); rd, rn may be sp. */
  addImm(rd: Reg, rn: Reg, imm12: number, lsl12 = false): this {
    return this.#addSubImm(0, 0, parse(rd, 'sp', 'add'), parse(rn, 'sp', 'add'), imm12, lsl12, 'add');
  }

  /** `sub rd, rn, #imm12` — SUB (immediate); rd, rn may be sp. */
  subImm(rd: Reg, rn: Reg, imm12: number, lsl12 = false): this {
    return this.#addSubImm(1, 0, parse(rd, 'sp', 'sub'), parse(rn, 'sp', 'sub'), imm12, lsl12, 'sub');
  }

  /** `cmp rn, #imm12` — SUBS zr, rn, #imm12: flags of rn - imm. */
  cmpImm(rn: Reg, imm12: number): this {
    const n = parse(rn, 'sp', 'cmp');
    return this.#addSubImm(1, 1, { n: 31, x: n.x }, n, imm12, false, 'cmp');
  }

  /** `cmn rn, #imm12` — ADDS zr, rn, #imm12: flags of rn + imm (rn == -imm sets Z). */
  cmnImm(rn: Reg, imm12: number): this {
    const n = parse(rn, 'sp', 'cmn');
    return this.#addSubImm(0, 1, { n: 31, x: n.x }, n, imm12, false, 'cmn');
  }

  #addSubImm(op: number, s: number, d: Parsed, n: Parsed, imm12: number, lsl12: boolean, what: string): this {
    const sf = width(what, d, n);
    uimm(imm12, 12, what);
    return this.#emit((sf << 31) | (op << 30) | (s << 29) | 0x11000000 | ((lsl12 ? 1 : 0) << 22) | (imm12 << 10) | (n.n << 5) | d.n);
  }

  /** `add rd, rn, rm, lsl #amount` — ADD (shifted register). */
  addReg(rd: Reg, rn: Reg, rm: Reg, lsl = 0): this {
    return this.#addSubReg(0, 0, rd, rn, rm, lsl, 'add');
  }

  /** `sub rd, rn, rm, lsl #amount` — SUB (shifted register). */
  subReg(rd: Reg, rn: Reg, rm: Reg, lsl = 0): this {
    return this.#addSubReg(1, 0, rd, rn, rm, lsl, 'sub');
  }

  /** `adds rd, rn, rm` — ADDS (shifted register): C is the unsigned carry out. */
  addsReg(rd: Reg, rn: Reg, rm: Reg): this {
    return this.#addSubReg(0, 1, rd, rn, rm, 0, 'adds');
  }

  /** `cmp rn, rm` — SUBS zr, rn, rm (shifted register, no shift). */
  cmpReg(rn: Reg, rm: Reg): this {
    const zr = rn.startsWith('x') ? 'xzr' : 'wzr';
    return this.#addSubReg(1, 1, zr, rn, rm, 0, 'cmp');
  }

  #addSubReg(op: number, s: number, rd: Reg, rn: Reg, rm: Reg, lsl: number, what: string): this {
    const d = parse(rd, 'zr', what);
    const n = parse(rn, 'zr', what);
    const m = parse(rm, 'zr', what);
    const sf = width(what, d, n, m);
    uimm(lsl, sf ? 6 : 5, what);
    return this.#emit((sf << 31) | (op << 30) | (s << 29) | 0x0b000000 | (m.n << 16) | (lsl << 10) | (n.n << 5) | d.n);
  }

  /** `madd rd, rn, rm, ra` — rd = ra + rn * rm. */
  madd(rd: Reg, rn: Reg, rm: Reg, ra: Reg): this {
    const [d, n, m, a] = [rd, rn, rm, ra].map((r) => parse(r, 'zr', 'madd')) as [Parsed, Parsed, Parsed, Parsed];
    const sf = width('madd', d, n, m, a);
    return this.#emit((sf << 31) | 0x1b000000 | (m.n << 16) | (a.n << 10) | (n.n << 5) | d.n);
  }

  /** `mul rd, rn, rm` — MADD rd, rn, rm, zr. */
  mul(rd: Reg, rn: Reg, rm: Reg): this {
    return this.madd(rd, rn, rm, rd.startsWith('x') ? 'xzr' : 'wzr');
  }

  // ---- loads and stores -----------------------------------------------------------------

  /** `ldr rt, [xn, #offset]` — LDR (immediate, unsigned offset, scaled by the width). */
  ldr(rt: Reg, xn: XReg, offset = 0): this {
    const t = parse(rt, 'zr', 'ldr');
    return this.#ldst(t.x ? 0b11 : 0b10, 0b01, t.n, xn, offset, 'ldr');
  }

  /** `str rt, [xn, #offset]` — STR (immediate, unsigned offset). */
  str(rt: Reg, xn: XReg, offset = 0): this {
    const t = parse(rt, 'zr', 'str');
    return this.#ldst(t.x ? 0b11 : 0b10, 0b00, t.n, xn, offset, 'str');
  }

  /** `ldrsw xt, [xn, #offset]` — a 32-bit load, sign-extended. */
  ldrsw(xt: XReg, xn: XReg, offset = 0): this {
    const t = parse(xt, 'zr', 'ldrsw');
    if (!t.x) throw new Error('ldrsw: the destination is an x register');
    return this.#ldst(0b10, 0b10, t.n, xn, offset, 'ldrsw');
  }

  /** `ldrb wt, [xn, #offset]` — LDRB (immediate, unsigned offset): zero-extended byte. */
  ldrb(wt: WReg, xn: XReg, offset = 0): this {
    return this.#ldst(0b00, 0b01, this.#w(wt, 'ldrb'), xn, offset, 'ldrb');
  }

  /** `strb wt, [xn, #offset]` — STRB (immediate, unsigned offset). */
  strb(wt: WReg, xn: XReg, offset = 0): this {
    return this.#ldst(0b00, 0b00, this.#w(wt, 'strb'), xn, offset, 'strb');
  }

  #w(r: WReg, what: string): number {
    const p = parse(r, 'zr', what);
    if (p.x) throw new Error(`${what}: the data register is a w register`);
    return p.n;
  }

  #ldst(size: number, opc: number, t: number, xn: XReg, offset: number, what: string): this {
    const n = parse(xn, 'sp', what);
    if (!n.x) throw new Error(`${what}: the base is an x register or sp`);
    const scale = 1 << size;
    if (offset % scale !== 0) throw new RangeError(`${what}: offset ${offset} is not a multiple of ${scale}`);
    const imm12 = uimm(offset / scale, 12, what);
    return this.#emit((size << 30) | 0x39000000 | (opc << 22) | (imm12 << 10) | (n.n << 5) | t);
  }

  /** `ldrb wt, [xn, xm]` — LDRB (register offset, no extension or shift). */
  ldrbReg(wt: WReg, xn: XReg, xm: XReg): this {
    return this.#ldstReg(0b01, this.#w(wt, 'ldrb'), xn, xm, 'ldrb');
  }

  /** `strb wt, [xn, xm]` — STRB (register offset). */
  strbReg(wt: WReg, xn: XReg, xm: XReg): this {
    return this.#ldstReg(0b00, this.#w(wt, 'strb'), xn, xm, 'strb');
  }

  #ldstReg(opc: number, t: number, xn: XReg, xm: XReg, what: string): this {
    const n = parse(xn, 'sp', what);
    const m = parse(xm, 'zr', what);
    if (!n.x || !m.x) throw new Error(`${what}: base and index are x registers`);
    // option 011 (LSL), S 0: [xn, xm]
    return this.#emit(0x38200800 | (opc << 22) | (m.n << 16) | (0b011 << 13) | (n.n << 5) | t);
  }

  /** `ldrb wt, [xn], #imm9` — LDRB post-index: load, then xn += imm9. */
  ldrbPost(wt: WReg, xn: XReg, imm9: number): this {
    return this.#ldstPost(0b01, this.#w(wt, 'ldrb'), xn, imm9, 'ldrb');
  }

  /** `strb wt, [xn], #imm9` — STRB post-index: store, then xn += imm9. */
  strbPost(wt: WReg, xn: XReg, imm9: number): this {
    return this.#ldstPost(0b00, this.#w(wt, 'strb'), xn, imm9, 'strb');
  }

  #ldstPost(opc: number, t: number, xn: XReg, imm9: number, what: string): this {
    const n = parse(xn, 'sp', what);
    if (!n.x) throw new Error(`${what}: the base is an x register or sp`);
    return this.#emit(0x38000400 | (opc << 22) | (simm(imm9, 9, what) << 12) | (n.n << 5) | t);
  }

  // ---- branches ---------------------------------------------------------------------------

  /** `b label` — B (imm26, +-128 MiB). */
  b(label: string): this {
    return this.#branch(0x14000000, label, 'imm26');
  }

  /** `bl label` — BL: x30 = the next instruction's address. */
  bl(label: string): this {
    return this.#branch(0x94000000, label, 'imm26');
  }

  /** `b.cond label` — B.cond (imm19, +-1 MiB). */
  bcond(cond: Cond, label: string): this {
    return this.#branch(0x54000000 | COND[cond], label, 'imm19');
  }

  /** `cbz rt, label` — branch when rt is zero. */
  cbz(rt: Reg, label: string): this {
    const t = parse(rt, 'zr', 'cbz');
    return this.#branch(((t.x ? 1 : 0) << 31) | 0x34000000 | t.n, label, 'imm19');
  }

  /** `cbnz rt, label` — branch when rt is not zero. */
  cbnz(rt: Reg, label: string): this {
    const t = parse(rt, 'zr', 'cbnz');
    return this.#branch(((t.x ? 1 : 0) << 31) | 0x35000000 | t.n, label, 'imm19');
  }

  /** `adr xd, label` — xd = the label's address (PC-relative, +-1 MiB). */
  adr(xd: XReg, label: string): this {
    const d = parse(xd, 'none', 'adr');
    if (!d.x) throw new Error('adr: the destination is an x register');
    return this.#branch(0x10000000 | d.n, label, 'adr');
  }

  #branch(word: number, label: string, kind: FixKind): this {
    this.#fixups.push({ at: this.here, label, kind });
    return this.#emit(word);
  }

  /** `ret` — RET x30. */
  ret(): this {
    return this.#emit(0xd65f03c0);
  }

  /** `br xn` — branch to the address in xn. */
  br(xn: XReg): this {
    return this.#emit(0xd61f0000 | (parse(xn, 'none', 'br').n << 5));
  }

  /** `blr xn` — call the address in xn (x30 = return address). */
  blr(xn: XReg): this {
    return this.#emit(0xd63f0000 | (parse(xn, 'none', 'blr').n << 5));
  }

  // ---- system -----------------------------------------------------------------------------

  /** `svc #imm16` — a system call (Linux: number in x8, arguments x0-x5, result x0). */
  svc(imm16 = 0): this {
    return this.#emit(0xd4000001 | (uimm(imm16, 16, 'svc') << 5));
  }

  /** `brk #imm16` — a breakpoint exception (SIGTRAP in a user program). */
  brk(imm16 = 0): this {
    return this.#emit(0xd4200000 | (uimm(imm16, 16, 'brk') << 5));
  }

  /** `nop`. */
  nop(): this {
    return this.#emit(0xd503201f);
  }

  /** `wfi` — wait for interrupt. */
  wfi(): this {
    return this.#emit(0xd503207f);
  }

  /** `mrs xt, sysreg` — read a system register. */
  mrs(xt: XReg, reg: SysReg): this {
    const t = parse(xt, 'zr', 'mrs');
    if (!t.x) throw new Error('mrs: the destination is an x register');
    const [op0, op1, crn, crm, op2] = SYSREG[reg];
    return this.#emit(0xd5300000 | ((op0 - 2) << 19) | (op1 << 16) | (crn << 12) | (crm << 8) | (op2 << 5) | t.n);
  }

  /** `msr sysreg, xt` — write a system register. */
  msr(reg: SysReg, xt: XReg): this {
    const t = parse(xt, 'zr', 'msr');
    if (!t.x) throw new Error('msr: the source is an x register');
    const [op0, op1, crn, crm, op2] = SYSREG[reg];
    return this.#emit(0xd5100000 | ((op0 - 2) << 19) | (op1 << 16) | (crn << 12) | (crm << 8) | (op2 << 5) | t.n);
  }

  /** `isb` — instruction synchronization barrier. */
  isb(): this {
    return this.#emit(0xd5033fdf);
  }

  // ---- output -----------------------------------------------------------------------------

  /** The machine code (little-endian words), every label reference resolved. */
  assemble(): Uint8Array {
    const words = Uint32Array.from(this.#words);
    for (const f of this.#fixups) {
      const target = this.#labels.get(f.label);
      if (target === undefined) throw new Error(`undefined label '${f.label}'`);
      const rel = target - f.at;
      const i = f.at / 4;
      if (f.kind === 'adr') {
        const imm = simm(rel, 21, `adr to '${f.label}'`);
        words[i] = (words[i]! | ((imm & 3) << 29) | ((imm >>> 2) << 5)) >>> 0;
      } else {
        const bits = f.kind === 'imm26' ? 26 : 19;
        const imm = simm(rel / 4, bits, `branch to '${f.label}'`);
        words[i] = (words[i]! | (f.kind === 'imm26' ? imm : imm << 5)) >>> 0;
      }
    }
    const out = new Uint8Array(words.length * 4);
    const view = new DataView(out.buffer);
    words.forEach((w, i) => view.setUint32(4 * i, w, true));
    return out;
  }

  /** Offset of a defined label from the start of the program. */
  offsetOf(name: string): number {
    const at = this.#labels.get(name);
    if (at === undefined) throw new Error(`undefined label '${name}'`);
    return at;
  }
}
