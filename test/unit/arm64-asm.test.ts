// The arm64 assembler's instruction forms against hand-checked words and, when
// binutils-aarch64-linux-gnu is installed, against GNU as for aarch64, form by form: each
// source line assembles to exactly the word (or words) the method emits.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { Arm64Asm, SYSREG, type Cond, type Reg, type SysReg, type WReg, type XReg } from '../../src/asm/arm64.js';

const words = (b: Uint8Array): string[] => {
  const out: string[] = [];
  for (let i = 0; i < b.length; i += 4) out.push(Buffer.from(b.subarray(i, i + 4)).readUInt32LE(0).toString(16).padStart(8, '0'));
  return out;
};

const AS = 'aarch64-linux-gnu-as';
const OBJCOPY = 'aarch64-linux-gnu-objcopy';

/** Assembles GNU as source for aarch64; null when the cross binutils are missing. */
function gas(source: string): Uint8Array | null {
  const dir = mkdtempSync(join(tmpdir(), 'gmemtest-a64as-'));
  try {
    writeFileSync(join(dir, 'a.s'), `.text\n${source}\n`);
    execFileSync(AS, ['-o', join(dir, 'a.o'), join(dir, 'a.s')], { stdio: 'pipe' });
    execFileSync(OBJCOPY, ['-O', 'binary', '-j', '.text', join(dir, 'a.o'), join(dir, 'a.bin')], { stdio: 'pipe' });
    return readFileSync(join(dir, 'a.bin'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const haveGas = gas('nop') !== null;
const noGas = haveGas ? false : `${AS}/${OBJCOPY} not installed (Debian package binutils-aarch64-linux-gnu)`;

t.test('instruction forms: hand-checked words (Arm ARM)', async (t) => {
  const one = (f: (a: Arm64Asm) => Arm64Asm): string => words(f(new Arm64Asm()).assemble()).join(' ');
  t.equal(one((a) => a.movz('x4', 0)), 'd2800004', 'movz x4, #0');
  t.equal(one((a) => a.ldrbReg('w3', 'x0', 'x4')), '38646803', 'ldrb w3, [x0, x4]');
  t.equal(one((a) => a.cmpImm('w3', 0xaa)), '7102a87f', 'cmp w3, #0xaa');
  t.equal(one((a) => a.movz('w5', 0xff)), '52801fe5', 'mov w5, #0xff');
  t.equal(one((a) => a.strbReg('w5', 'x0', 'x4')), '38246805', 'strb w5, [x0, x4]');
  t.equal(one((a) => a.addImm('x4', 'x4', 1)), '91000484', 'add x4, x4, #1');
  t.equal(one((a) => a.cmpReg('x4', 'x1')), 'eb01009f', 'cmp x4, x1');
  t.equal(one((a) => a.str('x6', 'x2')), 'f9000046', 'str x6, [x2]');
  t.equal(one((a) => a.str('x4', 'x2', 8)), 'f9000444', 'str x4, [x2, #8]');
  t.equal(one((a) => a.mrs('x7', 'ESR_EL1')), 'd5385207', 'mrs x7, esr_el1');
  t.equal(one((a) => a.mrs('x8', 'FAR_EL1')), 'd5386008', 'mrs x8, far_el1');
  t.equal(one((a) => a.mrs('x9', 'ELR_EL1')), 'd5384029', 'mrs x9, elr_el1');
  t.equal(one((a) => a.label('l').b('l')), '14000000', 'b .');
  t.equal(one((a) => a.svc()), 'd4000001', 'svc #0');
  t.equal(one((a) => a.ret()), 'd65f03c0', 'ret');
  t.equal(one((a) => a.nop()), 'd503201f', 'nop');
  t.equal(one((a) => a.bcond('ne', 'x').nop().label('x')), '54000041 d503201f', 'b.ne +8');
  t.equal(one((a) => a.label('x').nop().bcond('lo', 'x')), 'd503201f 54ffffe3', 'b.lo -4');
});

t.test('assembler refuses what it cannot encode', async (t) => {
  const a = (): Arm64Asm => new Arm64Asm();
  t.throws(() => a().addImm('x0', 'x1', 4096), RangeError);
  t.throws(() => a().addImm('xzr', 'x1', 1), /not allowed/);
  t.throws(() => a().mov('x0', 'w1'), /mixes/);
  t.throws(() => a().ldr('x0', 'x1', 4), /multiple of 8/);
  t.throws(() => a().ldr('x0', 'x1', 8 * 4096), RangeError);
  t.throws(() => a().ldrb('x0' as unknown as WReg, 'x1'), /w register/);
  t.throws(() => a().ldr('x0', 'w1' as unknown as XReg), /base/);
  t.throws(() => a().movz('w0', 1, 32), RangeError);
  t.throws(() => a().movz('x0', 0x10000), RangeError);
  t.throws(() => a().ldrbPost('w0', 'x1', 256), RangeError);
  t.throws(() => a().mov('x31' as XReg, 'x0'), /not a register/);
  t.throws(() => a().b('nowhere').assemble(), /undefined label/);
  t.throws(() => a().label('a').label('a'), /twice/);
  t.throws(() => a().movImm('w0', 2 ** 32), RangeError);
  t.throws(() => a().align(6), RangeError);
  const far = a().cbz('x0', 'far');
  for (let i = 0; i < (1 << 18) + 1; i++) far.nop();
  t.throws(() => far.label('far').assemble(), /does not fit in 19/);
});

t.test('movImm: the shortest MOVZ/MOVK sequence', async (t) => {
  const seq = (v: number | bigint, r: Reg = 'x0'): string => words(new Arm64Asm().movImm(r, v).assemble()).join(' ');
  t.equal(seq(0), 'd2800000');
  t.equal(seq(0x20000000), 'd2a40000', 'one MOVZ, lsl 16');
  t.equal(seq(0x100000000), 'd2c00020', '4 GiB: one MOVZ, lsl 32');
  t.equal(seq(0x12345678), 'd28acf00 f2a24680');
  t.equal(seq(-1n).split(' ').length, 4, 'all ones: MOVZ + 3 MOVK');
  t.equal(seq(0xffffffff, 'w1'), 'd29fffe1 f2bfffe1'.replace(/^d2/, '52').replace(/ f2/, ' 72'), 'w register: 32-bit forms');
});

const X: XReg[] = ['x0', 'x1', 'x7', 'x15', 'x16', 'x28', 'x30'];
const W: WReg[] = ['w0', 'w1', 'w7', 'w15', 'w16', 'w28', 'w30'];
const CONDS: Cond[] = ['eq', 'ne', 'hs', 'lo', 'mi', 'pl', 'vs', 'vc', 'hi', 'ls', 'ge', 'lt', 'gt', 'le', 'al'];

/** [GNU as line, the same instruction through the assembler] for every form and a spread of operands. */
function forms(): [string, (a: Arm64Asm) => void][] {
  const f: [string, (a: Arm64Asm) => void][] = [];
  const add = (src: string, fn: (a: Arm64Asm) => void): void => { f.push([src, fn]); };
  for (const [regs, zr] of [[X, 'xzr'], [W, 'wzr']] as const) {
    const big = regs === X;
    for (const d of [...regs, zr] as Reg[]) {
      for (const shift of big ? [0, 16, 32, 48] : [0, 16]) {
        add(`movz ${d}, #0x1234, lsl #${shift}`, (a) => a.movz(d, 0x1234, shift));
        add(`movk ${d}, #0xfedc, lsl #${shift}`, (a) => a.movk(d, 0xfedc, shift));
        add(`movn ${d}, #0x5a5a, lsl #${shift}`, (a) => a.movn(d, 0x5a5a, shift));
      }
    }
    for (const d of regs) for (const s of [...regs, zr] as Reg[]) add(`mov ${d}, ${s}`, (a) => a.mov(d, s));
    const sp = big ? 'sp' : 'wsp';
    for (const d of [...regs, sp] as Reg[]) {
      for (const n of [...regs, sp] as Reg[]) {
        add(`add ${d}, ${n}, #4095`, (a) => a.addImm(d, n, 4095));
        add(`add ${d}, ${n}, #1, lsl #12`, (a) => a.addImm(d, n, 1, true));
        add(`sub ${d}, ${n}, #33`, (a) => a.subImm(d, n, 33));
      }
    }
    for (const n of [...regs, sp] as Reg[]) {
      add(`cmp ${n}, #170`, (a) => a.cmpImm(n, 170));
      add(`cmn ${n}, #4`, (a) => a.cmnImm(n, 4));
    }
    add(`mov ${regs[2]}, ${sp}`, (a) => a.mov(regs[2]!, sp));
    add(`mov ${sp}, ${regs[3]}`, (a) => a.mov(sp, regs[3]!));
    for (const d of regs) {
      for (const n of regs) {
        for (const m of [regs[1]!, regs[5]!, zr] as Reg[]) {
          add(`add ${d}, ${n}, ${m}`, (a) => a.addReg(d, n, m));
          add(`add ${d}, ${n}, ${m}, lsl #3`, (a) => a.addReg(d, n, m, 3));
          add(`sub ${d}, ${n}, ${m}`, (a) => a.subReg(d, n, m));
          add(`adds ${d}, ${n}, ${m}`, (a) => a.addsReg(d, n, m));
          add(`mul ${d}, ${n}, ${m}`, (a) => a.mul(d, n, m));
          add(`madd ${d}, ${n}, ${m}, ${regs[4]}`, (a) => a.madd(d, n, m, regs[4]!));
        }
        add(`cmp ${d}, ${n}`, (a) => a.cmpReg(d, n));
      }
    }
  }
  const bases: XReg[] = [...X, 'sp'];
  for (const n of bases) {
    for (const tr of [...X, 'xzr'] as XReg[]) {
      for (const off of [0, 8, 32760]) {
        add(`ldr ${tr}, [${n}, #${off}]`, (a) => a.ldr(tr, n, off));
        add(`str ${tr}, [${n}, #${off}]`, (a) => a.str(tr, n, off));
      }
      add(`ldrsw ${tr}, [${n}, #16380]`, (a) => a.ldrsw(tr, n, 16380));
    }
    for (const tr of [...W, 'wzr'] as WReg[]) {
      for (const off of [0, 4, 16380]) {
        add(`ldr ${tr}, [${n}, #${off}]`, (a) => a.ldr(tr, n, off));
        add(`str ${tr}, [${n}, #${off}]`, (a) => a.str(tr, n, off));
      }
      for (const off of [0, 1, 4095]) {
        add(`ldrb ${tr}, [${n}, #${off}]`, (a) => a.ldrb(tr, n, off));
        add(`strb ${tr}, [${n}, #${off}]`, (a) => a.strb(tr, n, off));
      }
      for (const m of [X[1]!, X[6]!, 'xzr'] as XReg[]) {
        add(`ldrb ${tr}, [${n}, ${m}]`, (a) => a.ldrbReg(tr, n, m));
        add(`strb ${tr}, [${n}, ${m}]`, (a) => a.strbReg(tr, n, m));
      }
      for (const imm of [1, -1, 255, -256]) {
        add(`ldrb ${tr}, [${n}], #${imm}`, (a) => a.ldrbPost(tr, n, imm));
        add(`strb ${tr}, [${n}], #${imm}`, (a) => a.strbPost(tr, n, imm));
      }
    }
  }
  for (const r of X) {
    add(`br ${r}`, (a) => a.br(r));
    add(`blr ${r}`, (a) => a.blr(r));
    for (const s of Object.keys(SYSREG) as SysReg[]) {
      add(`mrs ${r}, ${s}`, (a) => a.mrs(r, s));
      add(`msr ${s}, ${r}`, (a) => a.msr(s, r));
    }
  }
  for (const imm of [0, 1, 0xffff]) {
    add(`svc #${imm}`, (a) => a.svc(imm));
    add(`brk #${imm}`, (a) => a.brk(imm));
  }
  add('ret', (a) => a.ret());
  add('nop', (a) => a.nop());
  add('wfi', (a) => a.wfi());
  add('isb', (a) => a.isb());
  add('.word 0xdeadbeef', (a) => a.word(0xdeadbeef));
  return f;
}

t.test('instruction forms: the same words as GNU as, form by form', { skip: noGas }, async (t) => {
  const f = forms();
  const a = new Arm64Asm();
  const ours: string[][] = [];
  for (const [, fn] of f) {
    const before = a.here;
    fn(a);
    ours.push([String(before), String(a.here)]);
  }
  const mine = words(a.assemble());
  const theirs = words(gas(f.map(([s]) => s).join('\n'))!);
  t.equal(theirs.length, mine.length, `${f.length} lines, one word each`);
  const wrong = f.flatMap(([src], i) => {
    const [b, e] = ours[i]!.map(Number) as [number, number];
    const m = mine.slice(b / 4, e / 4).join(' ');
    const g = theirs.slice(b / 4, e / 4).join(' ');
    return m === g ? [] : [`${src}: ours ${m}, GNU as ${g}`];
  });
  t.same(wrong, [], `${f.length} forms agree`);
});

t.test('PC-relative forms and alignment: the same words as GNU as', { skip: noGas }, async (t) => {
  const a = new Arm64Asm().label('top');
  const src = ['top:'];
  for (const c of CONDS) { a.bcond(c, 'fwd').bcond(c, 'top'); src.push(`b.${c} fwd`, `b.${c} top`); }
  for (const r of ['x3', 'w3', 'xzr'] as Reg[]) {
    a.cbz(r, 'fwd').cbnz(r, 'top');
    src.push(`cbz ${r}, fwd`, `cbnz ${r}, top`);
  }
  a.b('fwd').bl('top').adr('x5', 'fwd').adr('x30', 'top');
  src.push('b fwd', 'bl top', 'adr x5, fwd', 'adr x30, top');
  a.align(2048).label('fwd').nop().align(128).movImm('x9', 0x1234_5678_9abcn).movImm('x10', 0xffff_0000_0000_ffffn);
  src.push('.balign 2048', 'fwd: nop', '.balign 128', 'movz x9, #0x9abc', 'movk x9, #0x5678, lsl #16', 'movk x9, #0x1234, lsl #32',
    'movz x10, #0xffff', 'movk x10, #0xffff, lsl #48');
  t.same(words(a.assemble()), words(gas(src.join('\n'))!));
  t.equal(a.offsetOf('fwd'), 2048);
});
