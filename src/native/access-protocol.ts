/**
 * The access helper's wire protocol, shared by every architecture's program
 * (src/native/<arch>/access-helper.ts) and the client (src/isolate/access-helper.ts).
 *
 * The helper is a tiny static program that serves as a puppet address space: it maps,
 * touches and advises memory on request, so that a SIGBUS or SIGSEGV from a guest_memfd
 * access kills it, not the Node runner. It is started with
 *   fd 0  the command pipe (it reads), fd 1  the reply pipe (it writes),
 *   fd 3  optionally a file to map (a guest_memfd),
 *   argv  [name, <the parent's pid in decimal>]
 * and first sets PR_SET_PDEATHSIG = SIGKILL, exits (EXIT_ORPHANED) unless getppid() is
 * still that pid, turns off core dumps (PR_SET_DUMPABLE 0: a SIGBUS is the expected
 * outcome, not a crash to keep), closes every fd above 3, and installs one-shot
 * SIGBUS/SIGSEGV handlers (below). Then it sends READY and serves commands until the
 * command pipe reaches EOF (exit 0) or EXIT.
 *
 * Command (client -> helper): COMMAND_SIZE bytes, 8 little-endian u64 [op, a0 .. a6];
 * PUT is followed by its payload. Message (helper -> client): MESSAGE_SIZE bytes,
 * 4 little-endian u64 [kind, op, value, aux], followed by `aux` payload bytes where
 * the kind says so. For every command the helper first sends ACK (it has read the
 * command and is about to perform it: the access is "armed"), then performs it, then
 * sends RESULT (value = the raw result; for SYSCALL the kernel's return, so -errno on
 * failure). Ops:
 *   SYSCALL  a0 = number, a1..a6 = arguments          value = return value
 *   FILL     a0 = addr, a1 = len, a2 = byte            rep stosb: real user stores; value 0
 *   LOAD     a0 = addr, a1 = len (<= loadMax)          rep movsb into a private buffer (real
 *                                                      user loads of every byte); value = len,
 *                                                      the len bytes follow
 *   TOUCH    a0 = addr, a1 = len, a2 = stride (> 0)    one byte load at addr + k*stride for
 *                                                      every k*stride < len; value = their sum
 *   PUT      a0 = offset, a1 = len; len bytes follow   into the helper's data buffer; value = len
 *   GET      a0 = offset, a1 = len                     from the data buffer; value = len, bytes follow
 *   EXIT     a0 = exit code                            no RESULT: the helper exits
 * The data buffer (address and size in READY) is where SYSCALL's pointer arguments
 * (nodemasks, policies, move_pages arrays) point; PUT/GET fill and read it.
 *
 * A SIGBUS or SIGSEGV runs a handler (SA_RESETHAND, so it runs once) that sends FAULT
 * (op = the command being performed, value = si_addr, then 32 bytes: the head of the
 * kernel's siginfo: si_signo, si_errno, si_code, pad, si_addr) and returns: the access is
 * made again, and with the default action restored the same fault now kills the helper.
 * So the evidence stays a real access and a real death by that signal; the message only
 * adds which address faulted. The client then sees EOF and reaps the status.
 *
 * Errors of the helper itself end it with an EXIT_* code (a bad command, a failed pipe).
 * Pipe reads and writes are retried on EINTR and continued after partial transfers.
 */

export const PROTOCOL_VERSION = 1;
export const COMMAND_SIZE = 64;
export const MESSAGE_SIZE = 32;
/** The FAULT message's payload: si_signo, si_errno, si_code, pad, si_addr (x86_64 and arm64 alike). */
export const FAULT_INFO_SIZE = 32;

export const Op = {
  SYSCALL: 1,
  FILL: 2,
  LOAD: 3,
  TOUCH: 4,
  PUT: 5,
  GET: 6,
  EXIT: 7,
} as const;
export type OpCode = (typeof Op)[keyof typeof Op];
export const OP_NAME: Readonly<Record<number, string>> = Object.fromEntries(Object.entries(Op).map(([k, v]) => [v, k]));

export const Kind = {
  READY: 1,
  ACK: 2,
  RESULT: 3,
  FAULT: 4,
} as const;

/** Exit codes of the helper's own failures (EXIT's code is the client's). */
export const HelperExit = {
  /** The command pipe reached EOF: the client closed it. */
  EOF: 0,
  /** argv[1] missing or not a decimal pid. */
  USAGE: 120,
  /** getppid() was not the pid in argv[1]: the parent died before PR_SET_PDEATHSIG. */
  ORPHANED: 121,
  /** rt_sigaction failed. */
  SETUP: 122,
  /** Unknown op, or a length/offset outside the helper's buffers. */
  PROTOCOL: 123,
  /** A read or write on the pipes failed (other than EINTR). */
  PIPE: 124,
} as const;
export const HELPER_EXIT_NAME: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(HelperExit).filter(([k]) => k !== 'EOF').map(([k, v]) => [v, k]));

/** The exit paths every generator emits, by label, with their codes. */
export const HELPER_EXITS: readonly (readonly [string, number])[] = [
  ['exit_eof', HelperExit.EOF], ['exit_usage', HelperExit.USAGE], ['exit_orphaned', HelperExit.ORPHANED],
  ['exit_setup', HelperExit.SETUP], ['exit_protocol', HelperExit.PROTOCOL], ['exit_pipe', HelperExit.PIPE],
];

/** Labels every generator defines that are worth a symbol in the ELF (objdump shows them). */
export const HELPER_SYMBOLS = ['_start', 'loop', 'reply', 'op_syscall', 'op_fill', 'op_touch', 'op_load', 'buffer_range',
  'op_put', 'op_get', 'op_exit', 'send', 'write_all', 'read_all', 'on_fault', 'restorer', 'exit_eof'] as const;

/** What a generated helper program is, for its client. */
export interface AccessHelperProgram {
  readonly machine: 'x86_64' | 'aarch64';
  /** The static executable. */
  readonly elf: Uint8Array;
  /** Address and size of the data buffer (PUT/GET, pointer arguments of SYSCALL). */
  readonly bufferAddr: number;
  readonly bufferSize: number;
  /** Largest LOAD. */
  readonly loadMax: number;
}
