/**
 * The guest-to-host report ("ucall"): the guest loads the report's kind into eax and
 * up to two arguments into rbx and rcx, then does `out dx, al` with dx = UCALL_PORT.
 * KVM exits to userspace with KVM_EXIT_IO; the host reads the registers.
 */
import { KVM_EXIT_IO } from '../../kvm/uapi/kvm.js';
import type { IoExit, VcpuExit } from '../../kvm/exits.js';
import type { Regs } from '../../kvm/arch/x86_64/regs.js';
import type { Ucall } from '../types.js';

/** The I/O port the guest reports on (the same one kvm_util's x86 ucall uses). */
export const UCALL_PORT = 0x1000;

export const UCALL_DONE = 1;
export const UCALL_ASSERT = 2;


/** Whether an exit is a ucall (an `out` to UCALL_PORT). */
export function isUcallExit(e: VcpuExit): e is IoExit & { name: string } {
  return e.reason === KVM_EXIT_IO && (e as IoExit).direction === 'out' && (e as IoExit).port === UCALL_PORT;
}

/** The ucall the registers hold at a ucall exit. */
export function decodeUcall(r: Regs): Ucall {
  const code = r.rax & 0xffffffffn;
  if (code === BigInt(UCALL_DONE)) return { kind: 'DONE' };
  if (code === BigInt(UCALL_ASSERT)) return { kind: 'ASSERT', arg0: r.rbx, arg1: r.rcx };
  return { kind: 'UNKNOWN', code, arg0: r.rbx, arg1: r.rcx };
}
