// Building blocks for perturbations: which libc calls to change (function, ioctl
// request, argument, nth matching call) and how (result, errno, bytes the kernel wrote).
import { bufferAt, type CallInfo, type Interceptor, type LibcFunction, type SysResult } from '../../src/kvm/libc.js';
import { X86_OFFSETOF, X86_SIZEOF } from '../../src/kvm/arch/x86_64/uapi.js';

export type Match = (call: CallInfo) => boolean;
export type Effect = (call: CallInfo, real: () => SysResult) => SysResult;

export const fn = (name: LibcFunction, pred: (args: readonly (number | string)[]) => boolean = () => true): Match =>
  (c) => c.fn === name && pred(c.args);

export const ioctl = (request: number, pred: (arg: number) => boolean = () => true): Match =>
  (c) => c.fn === 'ioctl' && c.args[1] === request && pred(c.args[2] as number);

/** The u64 at `offset` of the struct an ioctl or fstat points to. */
export const structU64 = (c: CallInfo, argIndex: number, offset: number): bigint =>
  bufferAt(c.args[argIndex] as number, offset + 8).readBigUInt64LE(offset);

/** Rewrites a u64 of the struct a call points to before the call reaches the kernel. */
export const rewriteU64 = (argIndex: number, offset: number, value: bigint): Effect => (c, real) => {
  bufferAt(c.args[argIndex] as number, offset + 8).writeBigUInt64LE(value, offset);
  return real();
};

export const fails = (errno: number): Effect => () => ({ ret: -1, errno });
export const succeeds = (ret = 0): Effect => () => ({ ret, errno: 0 });
/** The real call, with its errno swapped for another (a wrong errno from the kernel). */
export const wrongErrno = (errno: number): Effect => (_c, real) => {
  const r = real();
  return r.ret < 0 ? { ret: r.ret, errno } : r;
};

/** Calls through, then changes what fstat() reported. */
export const statField = (field: keyof typeof X86_OFFSETOF.stat, change: (v: bigint) => bigint): Effect => (c, real) => {
  const r = real();
  if (r.ret === 0) {
    const buf = bufferAt(c.args[1] as number, X86_SIZEOF.stat);
    buf.writeBigInt64LE(change(buf.readBigInt64LE(X86_OFFSETOF.stat[field])), X86_OFFSETOF.stat[field]);
  }
  return r;
};

/** An interceptor applying `effect` to the matching calls: all of them, or the nth (1-based). */
export function rule(match: Match, effect: Effect, which: 'all' | number = 'all'): () => Interceptor {
  return () => {
    let seen = 0;
    return (call, real) => {
      if (!match(call)) return real();
      seen++;
      return which === 'all' || which === seen ? effect(call, real) : real();
    };
  };
}

/** Like rule(), for the matching calls made after a first `trigger` call (e.g. after KVM_RUN). */
export function ruleAfter(trigger: Match, match: Match, effect: Effect): () => Interceptor {
  return () => {
    let armed = false;
    return (call, real) => {
      if (armed && match(call)) return effect(call, real);
      if (trigger(call)) armed = true;
      return real();
    };
  };
}
