/** The guest programs, written with asm/x86_64.ts. Each reports through ucall.ts. */
import { Asm } from '../../asm/x86_64.js';
import { UCALL_ASSERT, UCALL_DONE, UCALL_PORT } from './ucall.js';

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
 * upstream's guest_code(mem, size) of guest_memfd_test.c, args in rdi (mem) and rsi
 * (size): every byte must be 0xaa, else ASSERT with arg0 = offset and arg1 = the byte;
 * then fill the range with 0xff and report DONE.
 */
export function memCheckProgram(): Uint8Array {
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

/** A guest that never exits on its own: `spin: jmp spin`. */
export function spinProgram(): Uint8Array {
  return new Asm().label('spin').jmp('spin').assemble();
}
