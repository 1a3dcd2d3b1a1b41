/**
 * A tiny x86-64 assembler: one method per instruction form the guest programs use,
 * each emitting the bytes the Intel SDM gives for that form, plus labels for the
 * short (rel8) jumps. Only the eight legacy registers are accepted, so no form ever
 * needs REX.R/X/B; a 64-bit operand size is REX.W (0x48). test/unit/x86-asm.test.ts
 * checks every form against GNU as when binutils is installed; nothing here needs it.
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
  readonly #fixups: { at: number; label: string }[] = [];

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
    this.#fixups.push({ at: this.here - 1, label });
    return this;
  }

  /** The machine code, with every jump resolved (rel8 counts from the next instruction). */
  assemble(): Uint8Array {
    const out = Uint8Array.from(this.#bytes);
    for (const f of this.#fixups) {
      const target = this.#labels.get(f.label);
      if (target === undefined) throw new Error(`undefined label '${f.label}'`);
      const rel = target - (f.at + 1);
      if (rel < -128 || rel > 127) throw new RangeError(`jump to '${f.label}' is ${rel} bytes: beyond rel8`);
      out[f.at] = rel & 0xff;
    }
    return out;
  }
}
