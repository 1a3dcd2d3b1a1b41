/**
 * The ioctl sweep (see ../ioctl-sweep.ts for the contract), for x86-64 and the SysV ABI:
 * rdi = parameter block on entry, rax = calls issued on return. Only caller-saved
 * registers are used (rax, rcx, rdx, rsi, rdi, r8-r11); `syscall` clobbers rcx and r11
 * and leaves the others, so the block (r8), the current value (r9), the output cursor
 * (r10) and &arg (rdx) live across it; the field's address is read into rcx at each
 * store.
 */
import { Asm } from '../../asm/x86_64.js';
import { SWEEP_BLOCK as B, type SweepProgram } from '../ioctl-sweep-abi.js';

const SYS_ioctl = 16;

export function x86_64IoctlSweep(): SweepProgram {
  const a = new Asm()
    .label('sweep')
    .movR64R64X('r8', 'rdi')
    .movR64Mem64('r9', 'r8', B.first)
    .movR64Mem64('r10', 'r8', B.out)
    .leaR64Mem('rdx', 'r8', B.arg)
    .label('next')
    .movR64Mem64('rcx', 'r8', B.last)
    .cmpR64R64X('r9', 'rcx')
    .jccNear('a', 'done') // unsigned: value > last
    .movR64Mem64('rcx', 'r8', B.field)
    .movMem64R64('rcx', 0, 'r9')
    .movR64Mem64('rdi', 'r8', B.fd)
    .movR64Mem64('rsi', 'r8', B.request)
    .movR64Mem64('rax', 'r8', B.nr)
    .syscall()
    .movMem64R64('r10', 0, 'rax')
    .addR64Imm('r10', 8)
    .addR64Imm('r9', 1)
    .movR64Mem64('rcx', 'r8', B.expect)
    .cmpR64R64X('rax', 'rcx')
    .jccNear('e', 'next')
    .label('done')
    .movR64R64X('rax', 'r9')
    .movR64Mem64('rcx', 'r8', B.first)
    .subR64R64('rax', 'rcx')
    .movMem64R64('r8', B.issued, 'rax')
    .ret();
  return { machine: 'x86_64', code: a.assemble(), entry: a.offsetOf('sweep'), ioctlNr: SYS_ioctl };
}
