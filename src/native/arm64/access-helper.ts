/**
 * The access helper (protocol: ../access-protocol.ts) for aarch64 Linux: a static
 * executable of raw system calls (svc #0: number in x8, arguments in x0-x5, result in
 * x0, every other register kept), written with the project's arm64 assembler. It does
 * what the x86-64 program does, in the same order; where that one uses rep stosb/movsb
 * this one has byte loops (ldrb/strb), which are real user loads and stores of every
 * byte as well.
 *
 * Memory: the text at 0x400000 and one zero-filled RW segment at BSS, both 64 KiB
 * aligned (the ELF is laid out for 64 KiB pages: it loads on 4, 16 and 64 KiB kernels):
 *   CMD     the command being served          MSG     the message being sent
 *   FMSG    the FAULT message (+ siginfo)     CUR_OP  the op being performed (for FAULT)
 *   SIGACT  struct sigaction for rt_sigaction BUF     the client's data buffer (PUT/GET)
 *   LOADBUF where LOAD copies to
 * Registers: x19 holds CMD while a command is served. Subroutines are called with bl and
 * are leaves (x30 survives them): send(x4 kind, x5 op, x6 value, x7 aux), write_all and
 * read_all (x1 = buffer, x2 = length), buffer_range; they clobber x0-x3, x8, x9.
 */
import { Arm64Asm } from '../../asm/arm64.js';
import {
  ARM64_OFFSETOF, PR_SET_DUMPABLE, SA_NODEFER, SA_RESETHAND, SA_RESTORER, SA_SIGINFO, SIGBUS, SIGSEGV, SYS_close_range,
  SYS_exit_group, SYS_getpid, SYS_getppid, SYS_kill, SYS_prctl, SYS_read, SYS_rt_sigaction, SYS_rt_sigreturn, SYS_write,
} from '../../kvm/arch/arm64/uapi.js';
import { PR_SET_PDEATHSIG, SIGKILL } from '../../kvm/uapi/linux.js';
import { labelSymbols, writeExecutable, type ElfImage } from '../elf.js';
import { LOAD_PAGE } from '../machine.js';
import {
  COMMAND_SIZE, FAULT_INFO_SIZE, HELPER_EXITS, HELPER_SYMBOLS, Kind, MESSAGE_SIZE, Op, PROTOCOL_VERSION,
  type AccessHelperProgram,
} from '../access-protocol.js';

const EINTR = 4;
const SA_FLAGS = SA_SIGINFO + SA_RESTORER + SA_NODEFER + SA_RESETHAND;
/** struct sigaction as the kernel takes it on arm64: handler, flags, restorer, mask. */
const SIGACTION = { handler: 0, flags: 8, restorer: 16, mask: 24 } as const;
const SIGSET_BYTES = 8;
export const BSS = 0x1000000;
const CMD = BSS;
const MSG = CMD + COMMAND_SIZE;
const FMSG = MSG + MESSAGE_SIZE;
const CUR_OP = FMSG + MESSAGE_SIZE + FAULT_INFO_SIZE;
const SIGACT = CUR_OP + 8;
export const BUF = BSS + 0x1000;
export const BUF_SIZE = 0x10000;
const LOADBUF = BUF + BUF_SIZE;
export const LOAD_MAX = 0x100000;
const BSS_SIZE = LOADBUF + LOAD_MAX - BSS;

/** cmd[i] of [op, a0..a6] as an offset from CMD. */
const A = (i: number): number => 8 * (i + 1);
const SI = ARM64_OFFSETOF.siginfo;

function program(): Arm64Asm {
  const a = new Arm64Asm();
  const sys = (nr: number): Arm64Asm => a.movz('x8', nr).svc();
  const exit = (label: string, code: number): Arm64Asm => a.label(label).movz('x0', code).movz('x8', SYS_exit_group).svc().brk();

  // ---- start-up: argv[1] is the parent's pid ----
  a.label('_start')
    .ldr('x0', 'sp', 0) // argc
    .cmpImm('x0', 2).bcond('lo', 'exit_usage')
    .ldr('x1', 'sp', 16) // argv[1]
    .movz('x5', 0).movz('x6', 10)
    .label('parse')
    .ldrbPost('w0', 'x1', 1)
    .cbz('w0', 'parsed')
    .subImm('w0', 'w0', 0x30).cmpImm('w0', 9).bcond('hi', 'exit_usage')
    .madd('x5', 'x5', 'x6', 'x0')
    .b('parse')
    .label('parsed')
    .movz('x0', PR_SET_PDEATHSIG).movz('x1', SIGKILL);
  sys(SYS_prctl);
  sys(SYS_getppid).cmpReg('x0', 'x5').bcond('ne', 'exit_orphaned');
  a.movz('x0', PR_SET_DUMPABLE).movz('x1', 0);
  sys(SYS_prctl);
  // close_range(4, ~0U, 0): ENOSYS before Linux 5.9, which only leaves inherited fds open.
  a.movz('x0', 4).movImm('x1', 0xffffffff).movz('x2', 0);
  sys(SYS_close_range);
  // The sigaction's mask stays 0 (bss).
  a.movImm('x9', SIGACT)
    .adr('x10', 'on_fault').str('x10', 'x9', SIGACTION.handler)
    .movImm('x10', SA_FLAGS).str('x10', 'x9', SIGACTION.flags)
    .adr('x10', 'restorer').str('x10', 'x9', SIGACTION.restorer);
  for (const sig of [SIGBUS, SIGSEGV]) {
    a.movz('x0', sig).mov('x1', 'x9').movz('x2', 0).movz('x3', SIGSET_BYTES);
    sys(SYS_rt_sigaction).cbnz('x0', 'exit_setup');
  }
  a.movz('x4', Kind.READY).movz('x5', PROTOCOL_VERSION).movImm('x6', BUF).movImm('x7', BUF_SIZE)
    .bl('send');

  // ---- the command loop ----
  a.label('loop')
    .movImm('x1', CMD).movz('x2', COMMAND_SIZE).bl('read_all')
    .movImm('x19', CMD)
    .ldr('x5', 'x19', 0)
    .movImm('x9', CUR_OP).str('x5', 'x9')
    .movz('x4', Kind.ACK).movz('x6', 0).movz('x7', 0)
    .bl('send')
    .ldr('x0', 'x19', 0);
  const ops: [number, string][] = [[Op.SYSCALL, 'op_syscall'], [Op.FILL, 'op_fill'], [Op.LOAD, 'op_load'],
    [Op.TOUCH, 'op_touch'], [Op.PUT, 'op_put'], [Op.GET, 'op_get'], [Op.EXIT, 'op_exit']];
  for (const [op, label] of ops) a.cmpImm('x0', op).bcond('eq', label);
  a.b('exit_protocol');

  // RESULT with value x6 and no payload, then the next command.
  a.label('reply')
    .movz('x4', Kind.RESULT).ldr('x5', 'x19', 0).movz('x7', 0)
    .bl('send')
    .b('loop');

  a.label('op_syscall')
    .ldr('x8', 'x19', A(0)).ldr('x0', 'x19', A(1)).ldr('x1', 'x19', A(2)).ldr('x2', 'x19', A(3))
    .ldr('x3', 'x19', A(4)).ldr('x4', 'x19', A(5)).ldr('x5', 'x19', A(6))
    .svc()
    .mov('x6', 'x0').b('reply');

  a.label('op_fill') // one byte store at every address of [a0, a0 + a1)
    .ldr('x0', 'x19', A(0)).ldr('x1', 'x19', A(1)).ldr('x2', 'x19', A(2))
    .label('fill_next')
    .cbz('x1', 'fill_done')
    .strbPost('w2', 'x0', 1)
    .subImm('x1', 'x1', 1)
    .b('fill_next')
    .label('fill_done')
    .movz('x6', 0).b('reply');

  a.label('op_touch')
    .ldr('x1', 'x19', A(0)).ldr('x2', 'x19', A(1)).ldr('x3', 'x19', A(2))
    .cbz('x3', 'exit_protocol')
    .movz('x4', 0).movz('x6', 0)
    .label('touch_next')
    .cmpReg('x4', 'x2').bcond('hs', 'touch_done')
    .ldrbReg('w0', 'x1', 'x4')
    .addReg('x6', 'x6', 'x0')
    .addsReg('x4', 'x4', 'x3').bcond('hs', 'touch_done') // the offset wrapped: nothing more below len
    .b('touch_next')
    .label('touch_done')
    .b('reply');

  a.label('op_load') // a byte load of every address of [a0, a0 + a1) into LOADBUF, then RESULT + the bytes
    .ldr('x1', 'x19', A(0)).ldr('x2', 'x19', A(1))
    .movImm('x9', LOAD_MAX).cmpReg('x2', 'x9').bcond('hi', 'exit_protocol')
    .mov('x20', 'x2')
    .movImm('x3', LOADBUF)
    .label('load_next')
    .cbz('x2', 'load_done')
    .ldrbPost('w0', 'x1', 1)
    .strbPost('w0', 'x3', 1)
    .subImm('x2', 'x2', 1)
    .b('load_next')
    .label('load_done')
    .movz('x4', Kind.RESULT).ldr('x5', 'x19', 0).mov('x6', 'x20').mov('x7', 'x20')
    .bl('send')
    .movImm('x1', LOADBUF).mov('x2', 'x20').bl('write_all')
    .b('loop');

  // x1 = BUF + offset, x2 = len, after checking offset <= BUF_SIZE and len <= BUF_SIZE - offset.
  a.label('buffer_range')
    .ldr('x0', 'x19', A(0)).movImm('x9', BUF_SIZE).cmpReg('x0', 'x9').bcond('hi', 'exit_protocol')
    .subReg('x9', 'x9', 'x0')
    .ldr('x2', 'x19', A(1)).cmpReg('x2', 'x9').bcond('hi', 'exit_protocol')
    .movImm('x1', BUF).addReg('x1', 'x1', 'x0')
    .ret();

  a.label('op_put')
    .bl('buffer_range')
    .bl('read_all')
    .ldr('x6', 'x19', A(1)).b('reply');

  a.label('op_get')
    .bl('buffer_range')
    .mov('x20', 'x1')
    .movz('x4', Kind.RESULT).ldr('x5', 'x19', 0).ldr('x6', 'x19', A(1)).mov('x7', 'x6')
    .bl('send')
    .mov('x1', 'x20').ldr('x2', 'x19', A(1)).bl('write_all')
    .b('loop');

  a.label('op_exit').ldr('x0', 'x19', A(0));
  sys(SYS_exit_group).brk();

  // ---- subroutines ----
  // send(x4 kind, x5 op, x6 value, x7 aux): one MESSAGE_SIZE message.
  a.label('send')
    .movImm('x9', MSG)
    .str('x4', 'x9', 0).str('x5', 'x9', 8).str('x6', 'x9', 16).str('x7', 'x9', 24)
    .mov('x1', 'x9').movz('x2', MESSAGE_SIZE)
    // falls through
    .label('write_all') // write(1, x1, x2) until all is written
    .cbz('x2', 'write_done')
    .movz('x0', 1);
  sys(SYS_write)
    .cmnImm('x0', EINTR).bcond('eq', 'write_all')
    .cmpImm('x0', 0).bcond('le', 'exit_pipe')
    .addReg('x1', 'x1', 'x0').subReg('x2', 'x2', 'x0')
    .b('write_all')
    .label('write_done')
    .ret();

  a.label('read_all') // read(0, x1, x2) until all is read; EOF ends the helper
    .cbz('x2', 'read_done')
    .movz('x0', 0);
  sys(SYS_read)
    .cmnImm('x0', EINTR).bcond('eq', 'read_all')
    .cmpImm('x0', 0).bcond('eq', 'exit_eof').bcond('lt', 'exit_pipe')
    .addReg('x1', 'x1', 'x0').subReg('x2', 'x2', 'x0')
    .b('read_all')
    .label('read_done')
    .ret();

  // SIGBUS/SIGSEGV handler (x0 = signo, x1 = siginfo, x2 = ucontext, x30 = the restorer):
  // FAULT, then return to repeat the access. The kernel restores every register from the
  // signal frame afterwards, so the handler may use any. A signal another process sent
  // (si_code <= 0) has no access to repeat: the helper sends it to itself, now with the
  // default action, so it still dies of it.
  a.label('on_fault')
    .mov('x21', 'x0').mov('x22', 'x1').mov('x23', 'x30')
    .movImm('x9', FMSG)
    .movz('x10', Kind.FAULT).str('x10', 'x9', 0)
    .movImm('x11', CUR_OP).ldr('x10', 'x11').str('x10', 'x9', 8)
    .ldr('x10', 'x22', SI.si_addr).str('x10', 'x9', 16)
    .movz('x10', FAULT_INFO_SIZE).str('x10', 'x9', 24);
  for (let o = 0; o < FAULT_INFO_SIZE; o += 8) a.ldr('x10', 'x22', o).str('x10', 'x9', MESSAGE_SIZE + o);
  a.mov('x1', 'x9').movz('x2', MESSAGE_SIZE + FAULT_INFO_SIZE).bl('write_all')
    .ldrsw('x10', 'x22', SI.si_code).cmpImm('x10', 0).bcond('gt', 'fault_return');
  sys(SYS_getpid).mov('x1', 'x21');
  sys(SYS_kill) // SA_NODEFER: delivered as this call returns
    .label('fault_return')
    .mov('x30', 'x23')
    .ret();
  a.label('restorer');
  sys(SYS_rt_sigreturn).brk();

  for (const [label, code] of HELPER_EXITS) exit(label, code);
  a.label('end');
  return a;
}

export function arm64AccessHelper(): AccessHelperProgram & { readonly image: ElfImage } {
  const a = program();
  const code = a.assemble();
  const symbols = labelSymbols((n) => a.offsetOf(n), HELPER_SYMBOLS, a.offsetOf('end'));
  const image = writeExecutable({ machine: 'aarch64', code, entry: a.offsetOf('_start'), bss: { vaddr: BSS, size: BSS_SIZE },
    symbols, pageSize: LOAD_PAGE.aarch64 });
  return { machine: 'aarch64', elf: image.bytes, image, bufferAddr: BUF, bufferSize: BUF_SIZE, loadMax: LOAD_MAX };
}
