/**
 * guest_code() of guest_memfd_test.c, the program test_guest_memfd_guest() runs in its
 * vCPU, once per architecture: for x86-64 written with asm/x86_64.ts, reporting through
 * the port-I/O ucalls of guest/x86_64/ucall.ts; for arm64 with asm/arm64.ts, reporting
 * through the MMIO ucalls of guest/arm64/ucall.ts. guest_code() is the one for the
 * architecture this process runs on.
 */
import { Arm64Asm } from '../asm/arm64.js';
import { Asm } from '../asm/x86_64.js';
import * as a64 from '../guest/arm64/ucall.js';
import { UCALL_ASSERT, UCALL_DONE, UCALL_PORT } from '../guest/x86_64/ucall.js';
import { ARCH } from '../kvm/arch/index.js';

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
export function guest_code_x86_64(): Uint8Array {
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

/** Reports `kind` (stored to the ucall address; arguments already in x0, x1), then stays put. */
function ucallArm64(a: Arm64Asm, kind: number, stayLabel: string): Arm64Asm {
  return a
    .movImm('x9', a64.UCALL_GPA)
    .movz('x10', kind)
    .str('x10', 'x9')
    .label(stayLabel)
    .b(stayLabel);
}

/**
 * guest_code(mem, size) for arm64, args in x0 (mem) and x1 (size): every byte must be
 * 0xaa, else ASSERT with x0 = offset and x1 = the byte; then one byte store of 0xff at
 * every offset (the memset) and DONE.
 */
export function guest_code_arm64(): Uint8Array {
  const a = new Arm64Asm();
  a.movz('x2', 0) //                  i = 0
    .label('check')
    .cmpReg('x2', 'x1') //            i < size ?
    .bcond('hs', 'fill')
    .ldrbReg('w3', 'x0', 'x2') //     w3 = mem[i]
    .cmpImm('w3', 0xaa)
    .bcond('ne', 'bad')
    .addImm('x2', 'x2', 1) //         i++
    .b('check');
  a.label('bad')
    .mov('x0', 'x2') //               arg0 = offset
    .mov('x1', 'x3'); //              arg1 = the byte found
  ucallArm64(a, a64.UCALL_ASSERT, 'assert_stay');
  a.label('fill')
    .movz('w3', 0xff)
    .movz('x2', 0)
    .label('fill_next')
    .cmpReg('x2', 'x1')
    .bcond('hs', 'filled')
    .strbReg('w3', 'x0', 'x2') //     mem[i] = 0xff
    .addImm('x2', 'x2', 1)
    .b('fill_next')
    .label('filled');
  ucallArm64(a, a64.UCALL_DONE, 'done_stay');
  return a.assemble();
}

/** guest_code for the architecture this process runs on. */
export function guest_code(): Uint8Array {
  return ARCH.name === 'arm64' ? guest_code_arm64() : guest_code_x86_64();
}
