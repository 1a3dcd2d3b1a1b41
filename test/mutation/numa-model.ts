// A two-node NUMA kernel, simulated at the syscall seam, for hosts with one node: mbind()
// records a policy per page, get_mempolicy() reports it, move_pages() places a page on
// the first node of its MPOL_BIND mask. The NUMA cases run against it unperturbed (and
// must pass) and perturbed (and must fail), so their checks are shown able to fail even
// where the real two-node run (gmemtest boot --numa 2) is not at hand.
import { bufferAt, type CallInfo, type Interceptor, type SysResult } from '../../src/kvm/libc.js';
import { EINVAL } from '../../src/kvm/errno.js';
import { MPOL_BIND, MPOL_DEFAULT } from '../../src/kvm/uapi/linux.js';
import { SYS_get_mempolicy, SYS_mbind, SYS_move_pages } from '../../src/kvm/arch/x86_64/uapi.js';

interface Policy { mode: number; mask: bigint }

export function numaModel(pageSize: number): Interceptor {
  const policies = new Map<number, Policy>();
  const pageOf = (addr: number): number => Math.floor(addr / pageSize);
  const arg = (c: CallInfo, i: number): number => c.args[i] as number;
  const ok: SysResult = { ret: 0, errno: 0 };
  return (c, real) => {
    if (c.fn !== 'syscall') return real();
    const nr = arg(c, 0);
    if (nr === SYS_mbind) {
      const [addr, len, mode, maskPtr] = [arg(c, 1), arg(c, 2), arg(c, 3), arg(c, 4)];
      if (mode < 0 || mode > 6) return { ret: -1, errno: EINVAL };
      const mask = maskPtr === 0 ? 0n : bufferAt(maskPtr, 8).readBigUInt64LE(0);
      for (let p = pageOf(addr); p < pageOf(addr + len); p++) {
        if (mode === MPOL_DEFAULT) policies.delete(p);
        else policies.set(p, { mode, mask });
      }
      return ok;
    }
    if (nr === SYS_get_mempolicy) {
      const [policyPtr, maskPtr, , addr] = [arg(c, 1), arg(c, 2), arg(c, 3), arg(c, 4)];
      if (policyPtr === 0) return ok; // the "is NUMA available" probe
      const p = policies.get(pageOf(addr)) ?? { mode: MPOL_DEFAULT, mask: 0n };
      bufferAt(policyPtr, 4).writeInt32LE(p.mode, 0);
      if (maskPtr !== 0) bufferAt(maskPtr, 8).writeBigUInt64LE(p.mask, 0);
      return ok;
    }
    if (nr === SYS_move_pages) {
      const [count, pagesPtr, , statusPtr] = [arg(c, 2), arg(c, 3), arg(c, 4), arg(c, 5)];
      const pages = bufferAt(pagesPtr, count * 8);
      const status = bufferAt(statusPtr, count * 4);
      for (let i = 0; i < count; i++) {
        const p = policies.get(pageOf(Number(pages.readBigUInt64LE(i * 8))));
        let node = 0;
        if (p && p.mode === MPOL_BIND) while (!((p.mask >> BigInt(node)) & 1n)) node++;
        status.writeInt32LE(node, i * 4);
      }
      return ok;
    }
    return real();
  };
}
