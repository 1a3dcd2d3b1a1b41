// The assembler's instruction forms and the guest programs, against hand-checked
// bytes and, when binutils is installed, against GNU as itself.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { Asm, type Reg32, type Reg64, type Reg8 } from '../../src/asm/x86_64.js';
import { memCheckProgram, spinProgram } from '../../src/kvm/x86/guest-code.js';
import { UCALL_ASSERT, UCALL_DONE, UCALL_PORT } from '../../src/kvm/x86/ucall.js';

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
  t.equal(hex(memCheckProgram()), [
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
  t.equal(hex(memCheckProgram()), hex(gas(src)!));
});
