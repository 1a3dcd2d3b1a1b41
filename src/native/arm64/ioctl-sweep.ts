/**
 * The ioctl sweep (see ../ioctl-sweep.ts for the contract), for aarch64 and the AAPCS64:
 * x0 = parameter block on entry, x0 = calls issued on return. A leaf: only the
 * caller-saved x0-x2 and x8-x14 are used, no stack; `svc #0` returns in x0 and keeps every
 * other register, so the block (x9), the current value (x10), the output cursor (x11),
 * &arg (x12) and the field's address (x14) live across it.
 */
import { Arm64Asm } from '../../asm/arm64.js';
import { SYS_ioctl } from '../../kvm/arch/arm64/uapi.js';
import { SWEEP_BLOCK as B, type SweepProgram } from '../ioctl-sweep-abi.js';

export function arm64IoctlSweep(): SweepProgram {
  const a = new Arm64Asm()
    .label('sweep')
    .mov('x9', 'x0')
    .ldr('x10', 'x9', B.first)
    .ldr('x11', 'x9', B.out)
    .addImm('x12', 'x9', B.arg)
    .ldr('x14', 'x9', B.field)
    .label('next')
    .ldr('x13', 'x9', B.last)
    .cmpReg('x10', 'x13')
    .bcond('hi', 'done') // unsigned: value > last
    .str('x10', 'x14')
    .ldr('x0', 'x9', B.fd)
    .ldr('x1', 'x9', B.request)
    .mov('x2', 'x12')
    .ldr('x8', 'x9', B.nr)
    .svc()
    .str('x0', 'x11')
    .addImm('x11', 'x11', 8)
    .addImm('x10', 'x10', 1)
    .ldr('x13', 'x9', B.expect)
    .cmpReg('x0', 'x13')
    .bcond('eq', 'next')
    .label('done')
    .ldr('x13', 'x9', B.first)
    .subReg('x0', 'x10', 'x13')
    .str('x0', 'x9', B.issued)
    .ret();
  return { machine: 'aarch64', code: a.assemble(), entry: a.offsetOf('sweep'), ioctlNr: SYS_ioctl };
}
