/**
 * The access helper (protocol: ../access-protocol.ts) for x86-64 Linux: a static
 * executable of raw system calls, written with the project's assembler.
 *
 * Memory: the text at 0x400000 (ELF headers and code, R+X) and one zero-filled RW
 * segment at BSS (fixed, low, so every address fits a 32-bit immediate):
 *   CMD     the command being served          MSG     the message being sent
 *   FMSG    the FAULT message (+ siginfo)     CUR_OP  the op being performed (for FAULT)
 *   SIGACT  struct kernel_sigaction           BUF     the client's data buffer (PUT/GET)
 *   LOADBUF where LOAD copies to
 * Registers: rbx holds CMD while a command is served (system calls keep it); the
 * subroutines take rsi = buffer, rdx = length (write_all, read_all) or
 * rdi/rsi/rdx/rcx = kind/op/value/aux (send) and clobber rax, rcx, rdx, rsi, rdi, r8, r11.
 */
import { Asm } from '../../asm/x86_64.js';
import { labelSymbols, writeExecutable, type ElfImage } from '../elf.js';
import {
  COMMAND_SIZE, FAULT_INFO_SIZE, HELPER_EXITS, HELPER_SYMBOLS, Kind, MESSAGE_SIZE, Op, PROTOCOL_VERSION,
  type AccessHelperProgram,
} from '../access-protocol.js';

const SYS = {
  read: 0, write: 1, rt_sigaction: 13, rt_sigreturn: 15, getpid: 39, kill: 62, getppid: 110, prctl: 157, exit_group: 231, close_range: 436,
} as const;
const PR_SET_PDEATHSIG = 1;
const PR_SET_DUMPABLE = 4;
const SIGKILL = 9;
const SIGBUS = 7;
const SIGSEGV = 11;
const EINTR = 4;
/** SA_SIGINFO | SA_RESTORER | SA_NODEFER | SA_RESETHAND (x86_64's values). */
const SA_FLAGS = 0x4 | 0x04000000 | 0x40000000 | 0x80000000;

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

/** cmd[i] of [op, a0..a6] as a displacement from CMD. */
const A = (i: number): number => 8 * (i + 1);

function program(): Asm {
  const a = new Asm();
  const sys = (nr: number): Asm => a.movR32Imm32('eax', nr).syscall();
  const exit = (label: string, code: number): Asm => a.label(label).movR32Imm32('edi', code).movR32Imm32('eax', SYS.exit_group).syscall().ud2();

  // ---- start-up ----
  a.label('_start')
    .movR64Mem64('rax', 'rsp', 0) // argc
    .cmpR64Imm('rax', 2).jccNear('b', 'exit_usage')
    .movR64Mem64('rsi', 'rsp', 16) // argv[1]
    .xorR32R32('ebp', 'ebp')
    .label('parse')
    .movzxR32Mem8Disp('eax', 'rsi')
    .testR64R64('rax', 'rax').jccNear('e', 'parsed')
    .subR64Imm('rax', 0x30).cmpR64Imm('rax', 9).jccNear('a', 'exit_usage')
    .imulR64R64Imm('rbp', 'rbp', 10).addR64R64('rbp', 'rax').addR64Imm('rsi', 1)
    .jmpNear('parse')
    .label('parsed')
    .movR32Imm32('edi', PR_SET_PDEATHSIG).movR32Imm32('esi', SIGKILL);
  sys(SYS.prctl);
  sys(SYS.getppid).cmpR64R64('rax', 'rbp').jccNear('ne', 'exit_orphaned');
  a.movR32Imm32('edi', PR_SET_DUMPABLE).xorR32R32('esi', 'esi');
  sys(SYS.prctl);
  // close_range(4, ~0U, 0): ENOSYS before Linux 5.9, which only leaves inherited fds open.
  a.movR32Imm32('edi', 4).movR32Imm32('esi', 0xffffffff).xorR32R32('edx', 'edx');
  sys(SYS.close_range);
  // struct kernel_sigaction { handler, flags, restorer, mask }: the mask stays 0 (bss).
  a.movR32Imm32('edi', SIGACT)
    .leaR64Rip('rax', 'on_fault').movMem64R64('rdi', 0, 'rax')
    .movR32Imm32('eax', SA_FLAGS >>> 0).movMem64R64('rdi', 8, 'rax')
    .leaR64Rip('rax', 'restorer').movMem64R64('rdi', 16, 'rax');
  for (const sig of [SIGBUS, SIGSEGV]) {
    a.movR32Imm32('edi', sig).movR32Imm32('esi', SIGACT).xorR32R32('edx', 'edx').movR32Imm32X('r10d', 8);
    sys(SYS.rt_sigaction).testR64R64('rax', 'rax').jccNear('ne', 'exit_setup');
  }
  a.movR32Imm32('edi', Kind.READY).movR32Imm32('esi', PROTOCOL_VERSION).movR32Imm32('edx', BUF).movR32Imm32('ecx', BUF_SIZE)
    .callNear('send');

  // ---- the command loop ----
  a.label('loop')
    .movR32Imm32('esi', CMD).movR32Imm32('edx', COMMAND_SIZE).callNear('read_all')
    .movR32Imm32('ebx', CMD)
    .movR64Mem64('rax', 'rbx', 0)
    .movR32Imm32('ecx', CUR_OP).movMem64R64('rcx', 0, 'rax')
    .movR32Imm32('edi', Kind.ACK).movR64R64('rsi', 'rax').xorR32R32('edx', 'edx').xorR32R32('ecx', 'ecx')
    .callNear('send')
    .movR64Mem64('rax', 'rbx', 0);
  const ops: [number, string][] = [[Op.SYSCALL, 'op_syscall'], [Op.FILL, 'op_fill'], [Op.LOAD, 'op_load'],
    [Op.TOUCH, 'op_touch'], [Op.PUT, 'op_put'], [Op.GET, 'op_get'], [Op.EXIT, 'op_exit']];
  for (const [op, label] of ops) a.cmpR64Imm('rax', op).jccNear('e', label);
  a.jmpNear('exit_protocol');

  // RESULT with value rdx and no payload, then the next command.
  a.label('reply')
    .movR32Imm32('edi', Kind.RESULT).movR64Mem64('rsi', 'rbx', 0).xorR32R32('ecx', 'ecx')
    .callNear('send')
    .jmpNear('loop');

  a.label('op_syscall')
    .movR64Mem64('rax', 'rbx', A(0)).movR64Mem64('rdi', 'rbx', A(1)).movR64Mem64('rsi', 'rbx', A(2))
    .movR64Mem64('rdx', 'rbx', A(3)).movR64Mem64('r10', 'rbx', A(4)).movR64Mem64('r8', 'rbx', A(5))
    .movR64Mem64('r9', 'rbx', A(6))
    .syscall()
    .movR64R64('rdx', 'rax').jmpNear('reply');

  a.label('op_fill')
    .movR64Mem64('rdi', 'rbx', A(0)).movR64Mem64('rcx', 'rbx', A(1)).movR64Mem64('rax', 'rbx', A(2))
    .repStosb()
    .xorR32R32('edx', 'edx').jmpNear('reply');

  a.label('op_touch')
    .movR64Mem64('rsi', 'rbx', A(0)).movR64Mem64('rcx', 'rbx', A(1)).movR64Mem64('rdx', 'rbx', A(2))
    .testR64R64('rdx', 'rdx').jccNear('e', 'exit_protocol')
    .xorR32R32('edi', 'edi').xorR32R32('ebp', 'ebp')
    .label('touch_next')
    .cmpR64R64('rdi', 'rcx').jccNear('ae', 'touch_done')
    .movzxR32Mem8('eax', 'rsi', 'rdi')
    .addR64R64('rbp', 'rax')
    .addR64R64('rdi', 'rdx').jccNear('b', 'touch_done') // the offset wrapped: nothing more below len
    .jmpNear('touch_next')
    .label('touch_done')
    .movR64R64('rdx', 'rbp').jmpNear('reply');

  a.label('op_load')
    .movR64Mem64('rsi', 'rbx', A(0)).movR64Mem64('rcx', 'rbx', A(1))
    .cmpR64Imm('rcx', LOAD_MAX).jccNear('a', 'exit_protocol')
    .movR64R64('rbp', 'rcx')
    .movR32Imm32('edi', LOADBUF)
    .repMovsb()
    .movR32Imm32('edi', Kind.RESULT).movR64Mem64('rsi', 'rbx', 0).movR64R64('rdx', 'rbp').movR64R64('rcx', 'rbp')
    .callNear('send')
    .movR32Imm32('esi', LOADBUF).movR64R64('rdx', 'rbp').callNear('write_all')
    .jmpNear('loop');

  // rsi = BUF + offset, rdx = len, after checking offset <= BUF_SIZE and len <= BUF_SIZE - offset.
  a.label('buffer_range')
    .movR64Mem64('rax', 'rbx', A(0)).cmpR64Imm('rax', BUF_SIZE).jccNear('a', 'exit_protocol')
    .movR32Imm32('ecx', BUF_SIZE).subR64R64('rcx', 'rax')
    .movR64Mem64('rdx', 'rbx', A(1)).cmpR64R64('rdx', 'rcx').jccNear('a', 'exit_protocol')
    .movR32Imm32('esi', BUF).addR64R64('rsi', 'rax')
    .ret();

  a.label('op_put')
    .callNear('buffer_range')
    .callNear('read_all')
    .movR64Mem64('rdx', 'rbx', A(1)).jmpNear('reply');

  a.label('op_get')
    .callNear('buffer_range')
    .movR64R64('rbp', 'rsi')
    .movR32Imm32('edi', Kind.RESULT).movR64Mem64('rsi', 'rbx', 0).movR64Mem64('rdx', 'rbx', A(1)).movR64R64('rcx', 'rdx')
    .callNear('send')
    .movR64R64('rsi', 'rbp').movR64Mem64('rdx', 'rbx', A(1)).callNear('write_all')
    .jmpNear('loop');

  a.label('op_exit').movR64Mem64('rdi', 'rbx', A(0));
  sys(SYS.exit_group).ud2();

  // ---- subroutines ----
  // send(rdi kind, rsi op, rdx value, rcx aux): one MESSAGE_SIZE message.
  a.label('send')
    .movR32Imm32X('r8d', MSG)
    .movMem64R64('r8', 0, 'rdi').movMem64R64('r8', 8, 'rsi').movMem64R64('r8', 16, 'rdx').movMem64R64('r8', 24, 'rcx')
    .movR32Imm32('esi', MSG).movR32Imm32('edx', MESSAGE_SIZE)
    // falls through
    .label('write_all') // write(1, rsi, rdx) until all is written
    .testR64R64('rdx', 'rdx').jccNear('e', 'write_done')
    .movR32Imm32('edi', 1);
  sys(SYS.write)
    .cmpR64Imm('rax', -EINTR).jccNear('e', 'write_all')
    .testR64R64('rax', 'rax').jccNear('le', 'exit_pipe')
    .addR64R64('rsi', 'rax').subR64R64('rdx', 'rax')
    .jmpNear('write_all')
    .label('write_done')
    .ret();

  a.label('read_all') // read(0, rsi, rdx) until all is read; EOF ends the helper
    .testR64R64('rdx', 'rdx').jccNear('e', 'read_done')
    .xorR32R32('edi', 'edi');
  sys(SYS.read)
    .cmpR64Imm('rax', -EINTR).jccNear('e', 'read_all')
    .testR64R64('rax', 'rax').jccNear('e', 'exit_eof').jccNear('l', 'exit_pipe')
    .addR64R64('rsi', 'rax').subR64R64('rdx', 'rax')
    .jmpNear('read_all')
    .label('read_done')
    .ret();

  // SIGBUS/SIGSEGV handler (rdi = signo, rsi = siginfo, rdx = ucontext): FAULT, then
  // return to repeat the access. A signal another process sent (si_code <= 0: SI_USER,
  // SI_TKILL, SI_QUEUE) has no access to repeat: the helper sends it to itself instead,
  // now with the default action, so it still dies of it.
  a.label('on_fault')
    .movR64R64X('r12', 'rdi').movR64R64X('r13', 'rsi')
    .movR32Imm32('edi', FMSG)
    .movR32Imm32('eax', Kind.FAULT).movMem64R64('rdi', 0, 'rax')
    .movR32Imm32('ecx', CUR_OP).movR64Mem64('rax', 'rcx', 0).movMem64R64('rdi', 8, 'rax')
    .movR64Mem64('rax', 'rsi', 16).movMem64R64('rdi', 16, 'rax')
    .movR32Imm32('eax', FAULT_INFO_SIZE).movMem64R64('rdi', 24, 'rax')
    .addR64Imm('rdi', MESSAGE_SIZE).movR32Imm32('ecx', FAULT_INFO_SIZE).repMovsb()
    .movR32Imm32('esi', FMSG).movR32Imm32('edx', MESSAGE_SIZE + FAULT_INFO_SIZE).callNear('write_all')
    .movsxdR64Mem32('rax', 'r13', 8).testR64R64('rax', 'rax').jccNear('g', 'fault_return');
  sys(SYS.getpid).movR64R64X('rdi', 'rax').movR64R64X('rsi', 'r12');
  sys(SYS.kill) // SA_NODEFER: delivered as this call returns
    .label('fault_return')
    .ret();
  a.label('restorer');
  sys(SYS.rt_sigreturn).ud2();

  for (const [label, code] of HELPER_EXITS) exit(label, code);
  a.label('end');
  return a;
}

export function x86_64AccessHelper(): AccessHelperProgram & { readonly image: ElfImage } {
  const a = program();
  const code = a.assemble();
  const symbols = labelSymbols((n) => a.offsetOf(n), HELPER_SYMBOLS, a.offsetOf('end'));
  const image = writeExecutable({ machine: 'x86_64', code, entry: a.offsetOf('_start'), bss: { vaddr: BSS, size: BSS_SIZE },
    symbols });
  return { machine: 'x86_64', elf: image.bytes, image, bufferAddr: BUF, bufferSize: BUF_SIZE, loadMax: LOAD_MAX };
}
