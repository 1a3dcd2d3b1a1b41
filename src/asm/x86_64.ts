/**
 * A tiny x86-64 assembler: one method per instruction form the guest programs use,
 * each emitting the bytes the Intel SDM gives for that form, plus labels for the
 * short (rel8) jumps. The guest programs' forms accept only the eight legacy registers,
 * so none of them ever needs REX.R/X/B; a 64-bit operand size is REX.W (0x48).
 *
 * The forms after them (the host-side programs of src/native/: system calls, memory
 * operands with a displacement, near jumps and calls, RIP-relative addresses) take all
 * sixteen general registers ({@link Gpr64}, {@link Gpr32}) and add the REX bits the
 * register numbers need, choosing the same encoding GNU as chooses where there are two
 * (imm8 against imm32, the short accumulator forms, the displacement size).
 * test/unit/x86-asm.test.ts checks every form against GNU as when binutils is
 * installed; nothing here needs it.
 */

export type Reg64 = 'rax' | 'rcx' | 'rdx' | 'rbx' | 'rsp' | 'rbp' | 'rsi' | 'rdi';
export type Reg32 = 'eax' | 'ecx' | 'edx' | 'ebx' | 'esp' | 'ebp' | 'esi' | 'edi';
export type Reg8 = 'al' | 'cl' | 'dl' | 'bl';

/** Register numbers, as ModRM.reg / ModRM.rm / SIB fields encode them. */
const NUM: Record<Reg64 | Reg32 | Reg8, number> = {
  rax: 0, rcx: 1, rdx: 2, rbx: 3, rsp: 4, rbp: 5, rsi: 6, rdi: 7,
  eax: 0, ecx: 1, edx: 2, ebx: 3, esp: 4, ebp: 5, esi: 6, edi: 7,
  al: 0, cl: 1, dl: 2, bl: 3,
};

const REX_W = 0x48;

/** All sixteen general registers, 64-bit names (the new forms only). */
export type Gpr64 = Reg64 | 'r8' | 'r9' | 'r10' | 'r11' | 'r12' | 'r13' | 'r14' | 'r15';
/** All sixteen general registers, 32-bit names (the new forms only). */
export type Gpr32 = Reg32 | 'r8d' | 'r9d' | 'r10d' | 'r11d' | 'r12d' | 'r13d' | 'r14d' | 'r15d';

/** Register numbers 0-15: bit 3 goes into a REX prefix, bits 0-2 into ModRM/SIB. */
const GPR: Record<Gpr64 | Gpr32, number> = {
  rax: 0, rcx: 1, rdx: 2, rbx: 3, rsp: 4, rbp: 5, rsi: 6, rdi: 7,
  r8: 8, r9: 9, r10: 10, r11: 11, r12: 12, r13: 13, r14: 14, r15: 15,
  eax: 0, ecx: 1, edx: 2, ebx: 3, esp: 4, ebp: 5, esi: 6, edi: 7,
  r8d: 8, r9d: 9, r10d: 10, r11d: 11, r12d: 12, r13d: 13, r14d: 14, r15d: 15,
};

/** REX prefix: 0100 W R X B. */
const rex = (w: boolean, r: number, x: number, b: number): number =>
  0x40 | (w ? 8 : 0) | ((r >> 3) << 2) | ((x >> 3) << 1) | (b >> 3);

/** Condition codes of Jcc (the low nibble of 70+cc / 0F 80+cc). */
export type Cond = 'o' | 'no' | 'b' | 'ae' | 'e' | 'ne' | 'be' | 'a' | 's' | 'ns' | 'p' | 'np' | 'l' | 'ge' | 'le' | 'g';
const CC: Record<Cond, number> = {
  o: 0, no: 1, b: 2, ae: 3, e: 4, ne: 5, be: 6, a: 7, s: 8, ns: 9, p: 10, np: 11, l: 12, ge: 13, le: 14, g: 15,
};

/** Group-1 ALU operations (the /digit of 81 and 83, and the opcode of the r/m, r form). */
const ALU = { add: { digit: 0, rm: 0x01 }, sub: { digit: 5, rm: 0x29 }, cmp: { digit: 7, rm: 0x39 } } as const;
type AluOp = keyof typeof ALU;

const isInt8 = (v: number): boolean => v >= -128 && v <= 127;
const isInt32 = (v: number): boolean => Number.isInteger(v) && v >= -0x80000000 && v <= 0x7fffffff;

/** ModRM byte: mod (2 bits), reg (3), rm (3). */
const modrm = (mod: number, reg: number, rm: number): number => (mod << 6) | (reg << 3) | rm;
/** SIB byte: scale (2 bits, log2), index (3), base (3). */
const sib = (scale: number, index: number, base: number): number => (scale << 6) | (index << 3) | base;

type Jcc = 'jmp' | 'jae' | 'jne';
/** Short-jump opcodes: EB cb (JMP rel8), 73 cb (JAE/JNB/JNC), 75 cb (JNE/JNZ). */
const JUMP_OPCODE: Record<Jcc, number> = { jmp: 0xeb, jae: 0x73, jne: 0x75 };

export class Asm {
  readonly #bytes: number[] = [];
  readonly #labels = new Map<string, number>();
  /** rel8: one byte, relative to the byte after it; rel32: four bytes, relative to the end of them. */
  readonly #fixups: { at: number; label: string; size: 1 | 4 }[] = [];

  /** Current offset from the start of the program. */
  get here(): number {
    return this.#bytes.length;
  }

  #emit(...b: number[]): this {
    for (const x of b) {
      if (!Number.isInteger(x) || x < 0 || x > 0xff) throw new RangeError(`byte ${x} out of range`);
      this.#bytes.push(x);
    }
    return this;
  }

  #imm32(v: number): number[] {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`imm32 ${v} out of range`);
    return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
  }

  /** Defines `name` at the current offset. */
  label(name: string): this {
    if (this.#labels.has(name)) throw new Error(`label '${name}' defined twice`);
    this.#labels.set(name, this.here);
    return this;
  }

  /** `xor r32, r32` — 31 /r (zero-extends into the 64-bit register). */
  xorR32R32(dst: Reg32, src: Reg32): this {
    return this.#emit(0x31, modrm(3, NUM[src], NUM[dst]));
  }

  /** `cmp r64, r64` — REX.W 39 /r: flags of dst - src. */
  cmpR64R64(dst: Reg64, src: Reg64): this {
    return this.#emit(REX_W, 0x39, modrm(3, NUM[src], NUM[dst]));
  }

  /** `mov r64, r64` — REX.W 89 /r. */
  movR64R64(dst: Reg64, src: Reg64): this {
    return this.#emit(REX_W, 0x89, modrm(3, NUM[src], NUM[dst]));
  }

  /** `mov r32, imm32` — B8+rd id (zero-extends into the 64-bit register). */
  movR32Imm32(dst: Reg32, imm: number): this {
    return this.#emit(0xb8 + NUM[dst], ...this.#imm32(imm));
  }

  /** `inc r64` — REX.W FF /0. */
  incR64(r: Reg64): this {
    return this.#emit(REX_W, 0xff, modrm(3, 0, NUM[r]));
  }

  /**
   * `movzx r32, byte [base + index]` — 0F B6 /r with mod 00, rm 100 (a SIB follows),
   * SIB scale 1. rbp as base would mean "no base" with mod 00, rsp cannot be an index.
   */
  movzxR32Mem8(dst: Reg32, base: Reg64, index: Reg64): this {
    if (base === 'rbp') throw new Error('movzxR32Mem8: rbp base needs a displacement');
    if (index === 'rsp') throw new Error('movzxR32Mem8: rsp cannot be an index');
    return this.#emit(0x0f, 0xb6, modrm(0, NUM[dst], 4), sib(0, NUM[index], NUM[base]));
  }

  /** `movzx r32, r8` — 0F B6 /r with mod 11 (al, cl, dl, bl only: no REX needed). */
  movzxR32R8(dst: Reg32, src: Reg8): this {
    return this.#emit(0x0f, 0xb6, modrm(3, NUM[dst], NUM[src]));
  }

  /** `cmp al, imm8` — 3C ib. */
  cmpAlImm8(imm: number): this {
    return this.#emit(0x3c, imm);
  }

  /** `out dx, al` — EE. */
  outDxAl(): this {
    return this.#emit(0xee);
  }

  /** `hlt` — F4. */
  hlt(): this {
    return this.#emit(0xf4);
  }

  /** `rep stosb` — F3 AA: store al at [rdi], rcx times, rdi ascending (DF = 0). */
  repStosb(): this {
    return this.#emit(0xf3, 0xaa);
  }

  /** `jmp rel8` — EB cb. */
  jmp(label: string): this {
    return this.#jump('jmp', label);
  }

  /** `jae rel8` (unsigned >=, CF = 0) — 73 cb. */
  jae(label: string): this {
    return this.#jump('jae', label);
  }

  /** `jne rel8` (ZF = 0) — 75 cb. */
  jne(label: string): this {
    return this.#jump('jne', label);
  }

  #jump(op: Jcc, label: string): this {
    this.#emit(JUMP_OPCODE[op], 0);
    this.#fixups.push({ at: this.here - 1, label, size: 1 });
    return this;
  }

  /**
   * The machine code, with every jump resolved (rel8 counts from the next instruction;
   * rel32 and RIP-relative displacements from the end of their four bytes, which is the
   * end of every instruction that has one here).
   */
  assemble(): Uint8Array {
    const out = Uint8Array.from(this.#bytes);
    for (const f of this.#fixups) {
      const target = this.#labels.get(f.label);
      if (target === undefined) throw new Error(`undefined label '${f.label}'`);
      const rel = target - (f.at + f.size);
      if (f.size === 1) {
        if (rel < -128 || rel > 127) throw new RangeError(`jump to '${f.label}' is ${rel} bytes: beyond rel8`);
        out[f.at] = rel & 0xff;
      } else {
        new DataView(out.buffer).setInt32(f.at, rel, true);
      }
    }
    return out;
  }

  /** Offset of a defined label from the start of the program (symbol tables, entry points). */
  offsetOf(name: string): number {
    const at = this.#labels.get(name);
    if (at === undefined) throw new Error(`undefined label '${name}'`);
    return at;
  }

  // ---- Forms for host-side programs (src/native/): all sixteen registers. ----

  #simm32(v: number): number[] {
    if (!isInt32(v)) throw new RangeError(`imm32 ${v} out of range`);
    return this.#imm32(v >>> 0);
  }

  /** REX (when W or any high register needs one) then the opcode bytes. */
  #op(w: boolean, reg: number, index: number, base: number, ...opcode: number[]): void {
    if (w || reg > 7 || index > 7 || base > 7) this.#emit(rex(w, reg, index, base));
    this.#emit(...opcode);
  }

  /**
   * ModRM (+ SIB) (+ disp) for [base + disp]: no displacement when it is 0 (except for
   * rbp/r13, whose mod 00 means something else), disp8 when it fits, else disp32;
   * rsp/r12 as a base need a SIB byte with no index.
   */
  #mem(reg: number, base: number, disp: number): void {
    if (!isInt32(disp)) throw new RangeError(`displacement ${disp} out of range`);
    const b = base & 7;
    const mod = disp === 0 && b !== 5 ? 0 : isInt8(disp) ? 1 : 2;
    this.#emit(modrm(mod, reg & 7, b));
    if (b === 4) this.#emit(sib(0, 4, 4));
    if (mod === 1) this.#emit(disp & 0xff);
    if (mod === 2) this.#emit(...this.#simm32(disp));
  }

  #rel32(label: string): this {
    this.#emit(0, 0, 0, 0);
    this.#fixups.push({ at: this.here - 4, label, size: 4 });
    return this;
  }

  /** `syscall` — 0F 05. */
  syscall(): this {
    return this.#emit(0x0f, 0x05);
  }

  /** `ret` — C3. */
  ret(): this {
    return this.#emit(0xc3);
  }

  /** `ud2` — 0F 0B: raises #UD (SIGILL), for paths that must never run. */
  ud2(): this {
    return this.#emit(0x0f, 0x0b);
  }

  /** `rep movsb` — F3 A4: copy rcx bytes from [rsi] to [rdi], ascending (DF = 0). */
  repMovsb(): this {
    return this.#emit(0xf3, 0xa4);
  }

  /** `push r64` — 50+rd (REX.B for r8-r15). */
  pushR64(r: Gpr64): this {
    const n = GPR[r];
    this.#op(false, 0, 0, n, 0x50 + (n & 7));
    return this;
  }

  /** `pop r64` — 58+rd (REX.B for r8-r15). */
  popR64(r: Gpr64): this {
    const n = GPR[r];
    this.#op(false, 0, 0, n, 0x58 + (n & 7));
    return this;
  }

  /** `mov r64, r64` over all sixteen registers — REX.W 89 /r. */
  movR64R64X(dst: Gpr64, src: Gpr64): this {
    this.#op(true, GPR[src], 0, GPR[dst], 0x89);
    return this.#emit(modrm(3, GPR[src] & 7, GPR[dst] & 7));
  }

  /** `xor r32, r32` over all sixteen registers — 31 /r (zero-extends). */
  xorR32R32X(dst: Gpr32, src: Gpr32): this {
    this.#op(false, GPR[src], 0, GPR[dst], 0x31);
    return this.#emit(modrm(3, GPR[src] & 7, GPR[dst] & 7));
  }

  /** `mov r32, imm32` over all sixteen registers — B8+rd id (zero-extends). */
  movR32Imm32X(dst: Gpr32, imm: number): this {
    const n = GPR[dst];
    this.#op(false, 0, 0, n, 0xb8 + (n & 7));
    return this.#emit(...this.#imm32(imm));
  }

  /** `mov r64, imm32` sign-extended — REX.W C7 /0 id (for negative constants such as -errno). */
  movR64Simm32(dst: Gpr64, imm: number): this {
    this.#op(true, 0, 0, GPR[dst], 0xc7);
    return this.#emit(modrm(3, 0, GPR[dst] & 7), ...this.#simm32(imm));
  }

  /** `mov r64, [base + disp]` — REX.W 8B /r. */
  movR64Mem64(dst: Gpr64, base: Gpr64, disp = 0): this {
    this.#op(true, GPR[dst], 0, GPR[base], 0x8b);
    this.#mem(GPR[dst], GPR[base], disp);
    return this;
  }

  /** `mov [base + disp], r64` — REX.W 89 /r. */
  movMem64R64(base: Gpr64, disp: number, src: Gpr64): this {
    this.#op(true, GPR[src], 0, GPR[base], 0x89);
    this.#mem(GPR[src], GPR[base], disp);
    return this;
  }

  /** `movzx r32, byte [base + disp]` — 0F B6 /r. */
  movzxR32Mem8Disp(dst: Gpr32, base: Gpr64, disp = 0): this {
    this.#op(false, GPR[dst], 0, GPR[base], 0x0f, 0xb6);
    this.#mem(GPR[dst], GPR[base], disp);
    return this;
  }

  /** `movsxd r64, dword [base + disp]` — REX.W 63 /r: a signed 32-bit load, sign-extended. */
  movsxdR64Mem32(dst: Gpr64, base: Gpr64, disp = 0): this {
    this.#op(true, GPR[dst], 0, GPR[base], 0x63);
    this.#mem(GPR[dst], GPR[base], disp);
    return this;
  }

  /** `lea r64, [base + disp]` — REX.W 8D /r. */
  leaR64Mem(dst: Gpr64, base: Gpr64, disp: number): this {
    this.#op(true, GPR[dst], 0, GPR[base], 0x8d);
    this.#mem(GPR[dst], GPR[base], disp);
    return this;
  }

  /** `lea r64, [rip + label]` — REX.W 8D /r, mod 00 rm 101, disp32 from the end of the instruction. */
  leaR64Rip(dst: Gpr64, label: string): this {
    this.#op(true, GPR[dst], 0, 0, 0x8d);
    this.#emit(modrm(0, GPR[dst] & 7, 5));
    return this.#rel32(label);
  }

  #aluRR(op: AluOp, dst: Gpr64, src: Gpr64): this {
    this.#op(true, GPR[src], 0, GPR[dst], ALU[op].rm);
    return this.#emit(modrm(3, GPR[src] & 7, GPR[dst] & 7));
  }

  /** imm8 form (83 /digit ib) when the value fits, else rax's short form (REX.W 05/2D/3D id), else 81 /digit id. */
  #aluRI(op: AluOp, dst: Gpr64, imm: number): this {
    const { digit } = ALU[op];
    const n = GPR[dst];
    if (!isInt32(imm)) throw new RangeError(`imm32 ${imm} out of range`);
    if (isInt8(imm)) {
      this.#op(true, 0, 0, n, 0x83);
      return this.#emit(modrm(3, digit, n & 7), imm & 0xff);
    }
    if (n === 0) return this.#emit(REX_W, (digit << 3) | 5, ...this.#simm32(imm));
    this.#op(true, 0, 0, n, 0x81);
    return this.#emit(modrm(3, digit, n & 7), ...this.#simm32(imm));
  }

  /** `add r64, r64` — REX.W 01 /r. */
  addR64R64(dst: Gpr64, src: Gpr64): this {
    return this.#aluRR('add', dst, src);
  }

  /** `sub r64, r64` — REX.W 29 /r. */
  subR64R64(dst: Gpr64, src: Gpr64): this {
    return this.#aluRR('sub', dst, src);
  }

  /** `cmp r64, r64` over all sixteen registers — REX.W 39 /r: flags of dst - src. */
  cmpR64R64X(dst: Gpr64, src: Gpr64): this {
    return this.#aluRR('cmp', dst, src);
  }

  /** `add r64, simm32` — REX.W 83 /0 ib, REX.W 05 id (rax) or REX.W 81 /0 id. */
  addR64Imm(dst: Gpr64, imm: number): this {
    return this.#aluRI('add', dst, imm);
  }

  /** `sub r64, simm32` — REX.W 83 /5 ib, REX.W 2D id (rax) or REX.W 81 /5 id. */
  subR64Imm(dst: Gpr64, imm: number): this {
    return this.#aluRI('sub', dst, imm);
  }

  /** `cmp r64, simm32` — REX.W 83 /7 ib, REX.W 3D id (rax) or REX.W 81 /7 id. */
  cmpR64Imm(dst: Gpr64, imm: number): this {
    return this.#aluRI('cmp', dst, imm);
  }

  /** `test r64, r64` — REX.W 85 /r: flags of a AND b. */
  testR64R64(a: Gpr64, b: Gpr64): this {
    this.#op(true, GPR[b], 0, GPR[a], 0x85);
    return this.#emit(modrm(3, GPR[b] & 7, GPR[a] & 7));
  }

  /** `imul r64, r64, simm32` — REX.W 6B /r ib when the value fits in 8 bits, else REX.W 69 /r id. */
  imulR64R64Imm(dst: Gpr64, src: Gpr64, imm: number): this {
    if (!isInt32(imm)) throw new RangeError(`imm32 ${imm} out of range`);
    const short = isInt8(imm);
    this.#op(true, GPR[dst], 0, GPR[src], short ? 0x6b : 0x69);
    this.#emit(modrm(3, GPR[dst] & 7, GPR[src] & 7));
    return short ? this.#emit(imm & 0xff) : this.#emit(...this.#simm32(imm));
  }

  /** `jmp rel32` — E9 cd. */
  jmpNear(label: string): this {
    this.#emit(0xe9);
    return this.#rel32(label);
  }

  /** `jcc rel32` — 0F 80+cc cd. */
  jccNear(cc: Cond, label: string): this {
    this.#emit(0x0f, 0x80 + CC[cc]);
    return this.#rel32(label);
  }

  /** `call rel32` — E8 cd. */
  callNear(label: string): this {
    this.#emit(0xe8);
    return this.#rel32(label);
  }
}
