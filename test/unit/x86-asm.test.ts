// The assembler's instruction forms and the guest programs, against hand-checked
// bytes and, when binutils is installed, against GNU as itself.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { Asm, type Cond, type Gpr32, type Gpr64, type Reg32, type Reg64, type Reg8 } from '../../src/asm/x86_64.js';
import { guest_code } from '../../src/cases/guest_code.js';
import { spinProgram } from '../helpers/guest-programs.js';
import { UCALL_ASSERT, UCALL_DONE, UCALL_PORT } from '../../src/guest/x86_64/ucall.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Assembles AT&T source with GNU as; null when binutils is missing. */
function gas(source: string): Uint8Array | null {
  const dir = mkdtempSync(join(tmpdir(), 'gmemtest-as-'));
  try {
    writeFileSync(join(dir, 'a.s'), `.code64\n.text\n${source}\n`);
    execFileSync('as', ['--64', '-o', join(dir, 'a.o'), join(dir, 'a.s')], { stdio: 'pipe' });
    execFileSync('objcopy', ['-O', 'binary', '-j', '.text', join(dir, 'a.o'), join(dir, 'a.bin')], { stdio: 'pipe' });
    return readFileSync(join(dir, 'a.bin'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const haveGas = gas('nop') !== null;

t.test('instruction forms: hand-checked bytes (Intel SDM)', async (t) => {
  const one = (f: (a: Asm) => Asm): string => hex(f(new Asm()).assemble());
  t.equal(one((a) => a.xorR32R32('ecx', 'ecx')), '31c9', 'xor ecx, ecx');
  t.equal(one((a) => a.cmpR64R64('rcx', 'rsi')), '4839f1', 'cmp rcx, rsi');
  t.equal(one((a) => a.movzxR32Mem8('eax', 'rdi', 'rcx')), '0fb6040f', 'movzx eax, byte [rdi+rcx]');
  t.equal(one((a) => a.cmpAlImm8(0xaa)), '3caa', 'cmp al, 0xaa');
  t.equal(one((a) => a.incR64('rcx')), '48ffc1', 'inc rcx');
  t.equal(one((a) => a.movR64R64('rbx', 'rcx')), '4889cb', 'mov rbx, rcx');
  t.equal(one((a) => a.movzxR32R8('ecx', 'al')), '0fb6c8', 'movzx ecx, al');
  t.equal(one((a) => a.movR32Imm32('edx', 0x1000)), 'ba00100000', 'mov edx, 0x1000');
  t.equal(one((a) => a.outDxAl()), 'ee', 'out dx, al');
  t.equal(one((a) => a.hlt()), 'f4', 'hlt');
  t.equal(one((a) => a.repStosb()), 'f3aa', 'rep stosb');
  t.equal(one((a) => a.label('x').jmp('x')), 'ebfe', 'jmp $');
  t.equal(one((a) => a.jae('x').jne('x').label('x')), '73027500', 'jae/jne forward');
});

t.test('assembler refuses what it cannot encode', async (t) => {
  t.throws(() => new Asm().movzxR32Mem8('eax', 'rbp', 'rcx'), /rbp/);
  t.throws(() => new Asm().movzxR32Mem8('eax', 'rdi', 'rsp'), /rsp/);
  t.throws(() => new Asm().jmp('nowhere').assemble(), /undefined label/);
  t.throws(() => new Asm().label('a').label('a'), /twice/);
  t.throws(() => new Asm().movR32Imm32('eax', -1), RangeError);
  const far = new Asm().jmp('far');
  for (let i = 0; i < 130; i++) far.hlt();
  t.throws(() => far.label('far').assemble(), /beyond rel8/);
});

t.test('guest programs: bytes', async (t) => {
  const port = UCALL_PORT.toString(16).padStart(4, '0');
  const le16 = port.slice(2) + port.slice(0, 2);
  t.equal(hex(guest_code()), [
    '31c9', //              xor ecx, ecx
    '4839f1', //            check: cmp rcx, rsi
    '7321', //              jae fill (+33)
    '0fb6040f', //          movzx eax, byte [rdi+rcx]
    '3caa', //              cmp al, 0xaa
    '7505', //              jne bad (+5)
    '48ffc1', //            inc rcx
    'ebee', //              jmp check (-18)
    '4889cb', //            bad: mov rbx, rcx
    '0fb6c8', //            movzx ecx, al
    `b8${UCALL_ASSERT.toString(16).padStart(2, '0')}000000`, // mov eax, ASSERT
    `ba${le16}0000`, //     mov edx, UCALL_PORT
    'ee', //                out dx, al
    'f4', 'ebfd', //        assert_halt: hlt; jmp assert_halt
    '4889f1', //            fill: mov rcx, rsi
    'b8ff000000', //        mov eax, 0xff
    'f3aa', //              rep stosb
    `b8${UCALL_DONE.toString(16).padStart(2, '0')}000000`, // mov eax, DONE
    `ba${le16}0000`, //     mov edx, UCALL_PORT
    'ee', //                out dx, al
    'f4', 'ebfd', //        done_halt: hlt; jmp done_halt
  ].join(''));
  t.equal(hex(spinProgram()), 'ebfe');
});

t.test('instruction forms: the same bytes as GNU as', { skip: haveGas ? false : 'GNU as/objcopy not installed' }, async (t) => {
  const r64: Reg64[] = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi'];
  const r32: Reg32[] = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'];
  const r8: Reg8[] = ['al', 'cl', 'dl', 'bl'];
  const a = new Asm();
  const src: string[] = [];
  for (const d of r32) for (const s of r32) { a.xorR32R32(d, s); src.push(`xorl %${s}, %${d}`); }
  for (const d of r64) for (const s of r64) {
    a.cmpR64R64(d, s); src.push(`cmpq %${s}, %${d}`);
    a.movR64R64(d, s); src.push(`movq %${s}, %${d}`);
  }
  for (const d of r64) { a.incR64(d); src.push(`incq %${d}`); }
  for (const d of r32) { a.movR32Imm32(d, 0x12345678); src.push(`movl $0x12345678, %${d}`); }
  for (const d of r32) for (const s of r8) { a.movzxR32R8(d, s); src.push(`movzbl %${s}, %${d}`); }
  for (const d of r32) for (const b of r64) for (const i of r64) {
    if (b === 'rbp' || i === 'rsp') continue;
    a.movzxR32Mem8(d, b, i); src.push(`movzbl (%${b},%${i}), %${d}`);
  }
  a.cmpAlImm8(0xaa); src.push('cmpb $0xaa, %al');
  a.outDxAl(); src.push('outb %al, %dx');
  a.hlt(); src.push('hlt');
  a.repStosb(); src.push('rep stosb');
  a.label('l1').jae('l2').jne('l1').jmp('l2').label('l2');
  src.push('l1: jae l2', 'jne l1', 'jmp l2', 'l2:');
  t.equal(hex(a.assemble()), hex(gas(src.join('\n'))!));
});

t.test('guest program: the same bytes as GNU as', { skip: haveGas ? false : 'GNU as/objcopy not installed' }, async (t) => {
  const src = `
    xorl %ecx, %ecx
check:
    cmpq %rsi, %rcx
    jae fill
    movzbl (%rdi,%rcx), %eax
    cmpb $0xaa, %al
    jne bad
    incq %rcx
    jmp check
bad:
    movq %rcx, %rbx
    movzbl %al, %ecx
    movl $${UCALL_ASSERT}, %eax
    movl $${UCALL_PORT}, %edx
    outb %al, %dx
assert_halt:
    hlt
    jmp assert_halt
fill:
    movq %rsi, %rcx
    movl $0xff, %eax
    rep stosb
    movl $${UCALL_DONE}, %eax
    movl $${UCALL_PORT}, %edx
    outb %al, %dx
done_halt:
    hlt
    jmp done_halt`;
  t.equal(hex(guest_code()), hex(gas(src)!));
});

// ---- The host-side forms (src/native/): all sixteen registers. ----

const G64: Gpr64[] = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi',
  'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];
const G32: Gpr32[] = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi',
  'r8d', 'r9d', 'r10d', 'r11d', 'r12d', 'r13d', 'r14d', 'r15d'];
const CONDS: Cond[] = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];
const DISPS = [0, 1, -8, 127, 128, -128, -129, 0x12345, -0x7fffffff];
const IMMS = [0, 1, -1, 127, -128, 128, -129, 0x1000, -4095, 0x7fffffff, -0x80000000];
const att = (d: number): string => (d === 0 ? '' : String(d));

t.test('host-side forms: hand-checked bytes (Intel SDM)', async (t) => {
  const one = (f: (a: Asm) => Asm): string => hex(f(new Asm()).assemble());
  t.equal(one((a) => a.syscall()), '0f05', 'syscall');
  t.equal(one((a) => a.ret()), 'c3', 'ret');
  t.equal(one((a) => a.ud2()), '0f0b', 'ud2');
  t.equal(one((a) => a.repMovsb()), 'f3a4', 'rep movsb');
  t.equal(one((a) => a.pushR64('rbx').pushR64('r12').popR64('r15')), '534154415f', 'push rbx; push r12; pop r15');
  t.equal(one((a) => a.movR64R64X('r10', 'rcx')), '4989ca', 'mov r10, rcx');
  t.equal(one((a) => a.movR32Imm32X('r10d', 8)), '41ba08000000', 'mov r10d, 8');
  t.equal(one((a) => a.movR64Simm32('rax', -4)), '48c7c0fcffffff', 'mov rax, -4');
  t.equal(one((a) => a.movR64Mem64('r10', 'rbx', 40)), '4c8b5328', 'mov r10, [rbx+40]');
  t.equal(one((a) => a.movR64Mem64('rax', 'r12')), '498b0424', 'mov rax, [r12] (SIB)');
  t.equal(one((a) => a.movR64Mem64('rax', 'r13')), '498b4500', 'mov rax, [r13+0] (disp8)');
  t.equal(one((a) => a.movMem64R64('r8', 0x100, 'r9')), '4d898800010000', 'mov [r8+0x100], r9');
  t.equal(one((a) => a.movzxR32Mem8Disp('eax', 'rsi')), '0fb606', 'movzx eax, byte [rsi]');
  t.equal(one((a) => a.leaR64Mem('rdx', 'r8', 72)), '498d5048', 'lea rdx, [r8+72]');
  t.equal(one((a) => a.movsxdR64Mem32('rax', 'r13', 8)), '49634508', 'movsxd rax, dword [r13+8]');
  t.equal(one((a) => a.leaR64Rip('rax', 'x').label('x')), '488d0500000000', 'lea rax, [rip+0]');
  t.equal(one((a) => a.addR64Imm('rax', 0x1000)), '480500100000', 'add rax, 0x1000 (short form)');
  t.equal(one((a) => a.addR64Imm('r9', 1)), '4983c101', 'add r9, 1 (imm8)');
  t.equal(one((a) => a.cmpR64Imm('rax', -4)), '4883f8fc', 'cmp rax, -4');
  t.equal(one((a) => a.subR64Imm('rcx', 200)), '4881e9c8000000', 'sub rcx, 200 (imm32)');
  t.equal(one((a) => a.testR64R64('rax', 'rax')), '4885c0', 'test rax, rax');
  t.equal(one((a) => a.imulR64R64Imm('rdx', 'rdx', 10)), '486bd20a', 'imul rdx, rdx, 10');
  t.equal(one((a) => a.label('x').jmpNear('x')), 'e9fbffffff', 'jmp rel32 to itself');
  t.equal(one((a) => a.jccNear('ne', 'x').label('x')), '0f8500000000', 'jne rel32 forward');
  t.equal(one((a) => a.callNear('x').label('x')), 'e800000000', 'call rel32');
  const labelled = new Asm().hlt().label('here').hlt();
  t.equal(labelled.offsetOf('here'), 1, 'offsetOf');
  t.throws(() => labelled.offsetOf('nowhere'), /undefined label/);
  t.throws(() => new Asm().addR64Imm('rax', 2 ** 31), RangeError);
  t.throws(() => new Asm().movR64Mem64('rax', 'rbx', 2 ** 31), RangeError);
});

t.test('host-side forms: rel32 reaches beyond rel8', async (t) => {
  const a = new Asm().jccNear('e', 'far');
  for (let i = 0; i < 300; i++) a.hlt();
  const code = a.label('far').assemble();
  t.equal(hex(code.subarray(0, 6)), '0f842c010000', 'je +300');
});

t.test('host-side forms: the same bytes as GNU as', { skip: haveGas ? false : 'GNU as/objcopy not installed' }, async (t) => {
  const a = new Asm();
  const src: string[] = [];
  const both = (f: () => void, s: string): void => { f(); src.push(s); };
  both(() => a.syscall(), 'syscall');
  both(() => a.ret(), 'ret');
  both(() => a.ud2(), 'ud2');
  both(() => a.repMovsb(), 'rep movsb');
  for (const r of G64) {
    both(() => a.pushR64(r), `pushq %${r}`);
    both(() => a.popR64(r), `popq %${r}`);
    both(() => a.testR64R64(r, r), `testq %${r}, %${r}`);
    for (const imm of [0, 0x12345678, 0xffffffff]) both(() => a.movR32Imm32X(G32[G64.indexOf(r)]!, imm), `movl $${imm}, %${G32[G64.indexOf(r)]}`);
    for (const imm of [-1, -4, 0x7fffffff, -0x80000000]) both(() => a.movR64Simm32(r, imm), `movq $${imm}, %${r}`);
    for (const imm of IMMS) {
      both(() => a.addR64Imm(r, imm), `addq $${imm}, %${r}`);
      both(() => a.subR64Imm(r, imm), `subq $${imm}, %${r}`);
      both(() => a.cmpR64Imm(r, imm), `cmpq $${imm}, %${r}`);
    }
    for (const s of G64) {
      both(() => a.movR64R64X(r, s), `movq %${s}, %${r}`);
      both(() => a.addR64R64(r, s), `addq %${s}, %${r}`);
      both(() => a.subR64R64(r, s), `subq %${s}, %${r}`);
      both(() => a.cmpR64R64X(r, s), `cmpq %${s}, %${r}`);
      both(() => a.testR64R64(r, s), `testq %${s}, %${r}`);
      for (const imm of [10, -3, 1000]) both(() => a.imulR64R64Imm(r, s, imm), `imulq $${imm}, %${s}, %${r}`);
      for (const d of DISPS) {
        both(() => a.movR64Mem64(r, s, d), `movq ${att(d)}(%${s}), %${r}`);
        both(() => a.movMem64R64(s, d, r), `movq %${r}, ${att(d)}(%${s})`);
        both(() => a.leaR64Mem(r, s, d), `leaq ${att(d)}(%${s}), %${r}`);
        both(() => a.movsxdR64Mem32(r, s, d), `movslq ${att(d)}(%${s}), %${r}`);
        both(() => a.movzxR32Mem8Disp(G32[G64.indexOf(r)]!, s, d), `movzbl ${att(d)}(%${s}), %${G32[G64.indexOf(r)]}`);
      }
    }
  }
  for (const d of G32) for (const s of G32) both(() => a.xorR32R32X(d, s), `xorl %${s}, %${d}`);
  both(() => a.label('back'), 'back:');
  for (const r of G64) both(() => a.leaR64Rip(r, 'fwd'), `leaq fwd(%rip), %${r}`);
  for (const r of G64) both(() => a.leaR64Rip(r, 'back'), `leaq back(%rip), %${r}`);
  for (const c of CONDS) {
    both(() => a.jccNear(c, 'fwd'), `{disp32} j${c} fwd`);
    both(() => a.jccNear(c, 'back'), `{disp32} j${c} back`);
  }
  both(() => a.jmpNear('fwd'), '{disp32} jmp fwd');
  both(() => a.jmpNear('back'), '{disp32} jmp back');
  both(() => a.callNear('fwd'), 'call fwd');
  both(() => a.callNear('back'), 'call back');
  both(() => a.label('fwd'), 'fwd:');
  both(() => a.hlt(), 'hlt');
  t.equal(hex(a.assemble()), hex(gas(src.join('\n'))!));
});
