/**
 * The assertions the ported cases use: TEST_ASSERT and friends of the kernel's
 * test_util.h, except that a failed check throws a CheckFailure (runner/outcome.ts)
 * carrying diagnostics (what was checked, what was expected, what came, the errno name)
 * and the runner reports the case `not ok` and carries on.
 */
import { errnoName } from '../kvm/errno.js';
import { SyscallError, type SysResult } from '../kvm/libc.js';
import type { Result } from '../kvm/result.js';
import { CheckFailure, SkipCase } from '../runner/outcome.js';
import { hex } from '../kvm/hex.js';

/**
 * A call made through an asserting helper (the throwing forms of the kvm layer, as
 * upstream's vm_create_guest_memfd(), kvm_mmap(), vm_set_user_memory_region2()...) that the
 * kernel refused is a failed check of the case, not a fault of gmemtest: the SyscallError
 * becomes a CheckFailure naming the call and the errno. Anything else is left as it is.
 */
export function asCheck(e: unknown): unknown {
  if (!(e instanceof SyscallError)) return e;
  return new CheckFailure(`${e.call} succeeds`, ['expected: success', `got: -1 (${e.errnoName})`]);
}

/** Runs a case body with asCheck() applied to what it throws. */
export async function asserting(body: () => void | Promise<void>): Promise<void> {
  try {
    await body();
  } catch (e) {
    throw asCheck(e);
  }
}

/** SKIP with a reason that reads the same on every host; this host's facts in `details`. */
export function skip(reason: string, details: readonly string[] = []): never {
  throw new SkipCase(reason, details);
}

/** A check's description; a function when building it costs (checks in hot loops). */
export type Label = string | (() => string);
const text = (l: Label): string => (typeof l === 'string' ? l : l());

const show = (v: unknown): string =>
  typeof v === 'number' ? `${v} (${hex(v)})` : typeof v === 'bigint' ? `${hex(v)}` : String(v);

const describe = (r: SysResult): string =>
  r.ret < 0 ? `${r.ret} (${errnoName(r.errno)})` : `${r.ret}`;

export function expect(cond: boolean, what: Label, details?: () => string[]): asserts cond {
  if (!cond) throw new CheckFailure(text(what), details ? details() : []);
}

/** TEST_ASSERT_EQ. */
export function expectEq<T extends number | bigint | string | boolean>(got: T, want: T, what: Label): void {
  if (got !== want) throw new CheckFailure(text(what), [`expected: ${show(want)}`, `got: ${show(got)}`]);
}

/** The call succeeded (returned >= 0). Returns its result. */
export function expectOk(r: SysResult, what: Label): number {
  if (r.ret < 0) throw new CheckFailure(text(what), ['expected: success', `got: ${describe(r)}`]);
  return r.ret;
}

/**
 * A non-throwing call's Result is a value (fstat, KVM_CREATE_GUEST_MEMFD, mmap...);
 * returns it. `failed` is how a failure is spelled in C (-1, MAP_FAILED).
 */
export function expectResult<T>(r: Result<T>, what: Label, failed = '-1'): T {
  if (!r.ok) throw new CheckFailure(text(what), ['expected: success', `got: ${failed} (${r.errnoName})`]);
  return r.value;
}

/**
 * The call returned exactly 0: the selftests' kvm_<syscall>() wrappers (kvm_syscalls.h),
 * whose TEST_ASSERT(!r) also refuses a positive answer (move_pages()' pages not moved).
 */
export function expectZero(r: SysResult, what: Label): void {
  if (r.ret !== 0) throw new CheckFailure(text(what), ['expected: 0', `got: ${describe(r)}`]);
}

/** The call failed, whatever the errno (upstream's `TEST_ASSERT(ret, ...)`). */
export function expectFailure(r: SysResult, what: Label): void {
  if (r.ret >= 0) throw new CheckFailure(text(what), ['expected: failure (-1)', `got: ${describe(r)}`]);
}

/** The call failed with exactly this errno (`ret == -1 && errno == E`). */
export function expectErrno(r: SysResult, errno: number, what: Label): void {
  if (r.ret !== -1 || r.errno !== errno) {
    throw new CheckFailure(text(what), [`expected: -1 (${errnoName(errno)})`, `got: ${describe(r)}`]);
  }
}
