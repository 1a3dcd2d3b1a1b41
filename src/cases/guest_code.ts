/**
 * guest_code() of guest_memfd_test.c, the program test_guest_memfd_guest() runs in its
 * vCPU, written with the project's x86-64 assembler (asm/x86_64.ts); it reports through
 * the port-I/O ucalls of guest/x86_64/ucall.ts.
 */
import { Asm } from '../asm/x86_64.js';
import { UCALL_ASSERT, UCALL_DONE, UCALL_PORT } from '../guest/x86_64/ucall.js';

/** Reports `kind` (eax) on UCALL_PORT, then halts for good if ever resumed. */
function ucall(a: Asm, kind: number, haltLabel: string): Asm {
  return a
    .movR32Imm32('eax', kind)
    .movR32Imm32('edx', UCALL_PORT)
    .outDxAl()
    .label(haltLabel)
    .hlt()
    .jmp(haltLabel);
}

/**
 * guest_code(mem, size), args in rdi (mem) and rsi (size): every byte must be 0xaa, else
 * ASSERT with arg0 = offset and arg1 = the byte; then fill the range with 0xff and
 * report DONE.
 */
export function guest_code(): Uint8Array {
  const a = new Asm();
  a.xorR32R32('ecx', 'ecx') //            i = 0
    .label('check')
    .cmpR64R64('rcx', 'rsi') //           i < size ?
    .jae('fill')
    .movzxR32Mem8('eax', 'rdi', 'rcx') // eax = mem[i]
    .cmpAlImm8(0xaa)
    .jne('bad')
    .incR64('rcx') //                     i++
    .jmp('check');
  a.label('bad')
    .movR64R64('rbx', 'rcx') //           arg0 = offset
    .movzxR32R8('ecx', 'al'); //          arg1 = the byte found
  ucall(a, UCALL_ASSERT, 'assert_halt');
  a.label('fill')
    .movR64R64('rcx', 'rsi') //           count = size (rdi is still mem)
    .movR32Imm32('eax', 0xff)
    .repStosb(); //                       memset(mem, 0xff, size)
  ucall(a, UCALL_DONE, 'done_halt');
  return a.assemble();
}
