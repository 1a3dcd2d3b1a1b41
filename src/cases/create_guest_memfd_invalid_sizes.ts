/**
 * Port of test_create_guest_memfd_invalid_sizes() of guest_memfd_test.c: every size
 * from 1 to page_size - 1 is refused with EINVAL, with the flag set under test.
 *
 * The page_size - 1 calls are made by one batched routine (isolate/ioctl-sweep.ts) where
 * it can be loaded, in one FFI crossing: the kernel sees the same calls in the same order,
 * up to the first that does not fail with EINVAL (upstream's loop stops there too, at its
 * assert); every verdict below is taken here, from the results it recorded.
 */
import { EINVAL, errnoName } from '../kvm/errno.js';
import { hex } from '../kvm/hex.js';
import { libc } from '../kvm/libc.js';
import type { Vm } from '../kvm/vm.js';
import { CheckFailure } from '../runner/outcome.js';
import type { CaseEnv } from './env.js';
import { batchedIoctls } from './sweeper.js';

/**
 * KVM_CREATE_GUEST_MEMFD for size = 1, 2, ... last with `flags`, stopping after the first
 * call that does not fail with EINVAL: each call's raw result (an fd, or -errno). The
 * fault-injection seam sees every call (the project's tests): with it installed the calls
 * are made one by one through libc, and an fd made is closed at once; the batched
 * routine's fds (`open`) are the caller's to close.
 */
function createSizes(vm: Vm, flags: number, last: number): { results: readonly number[]; open: boolean } {
  const b = batchedIoctls();
  if (b !== null) return { results: b.createGuestMemfdSizes(vm.fd, flags, 1, last, EINVAL).results, open: true };
  const out: number[] = [];
  for (let size = 1; size <= last; size++) {
    const r = vm.tryCreateGuestMemfd(size, flags);
    out.push(r.ok ? r.value.fd : -r.errno);
    if (r.ok) r.value.close();
    if (r.ok || r.errno !== EINVAL) break;
  }
  return { results: out, open: false };
}

export function create_guest_memfd_invalid_sizes(vm: Vm, flags: number, env: CaseEnv): void {
  const { results, open } = createSizes(vm, flags, env.pageSize - 1);
  // One pass over the page_size - 1 results (in an emulated guest each pass costs
  // milliseconds); fds of refusals that did not happen are closed before the verdict.
  let first = -1;
  for (let i = 0; i < results.length; i++) {
    if (results[i] !== -EINVAL) {
      first = i;
      break;
    }
  }
  if (first >= 0) {
    if (open) for (const ret of results) if (ret >= 0) libc.close(ret); // guest_memfds the kernel should not have made
    const ret = results[first]!;
    throw new CheckFailure(`guest_memfd of unaligned size ${hex(first + 1)} is refused with EINVAL`, [
      `flags: ${hex(flags)}`, 'expected: -1 (EINVAL)',
      `got: ${ret >= 0 ? 'a guest_memfd fd' : `-1 (${errnoName(-ret)})`}`,
    ]);
  }
  if (results.length !== env.pageSize - 1) {
    throw new Error(`${results.length} of ${env.pageSize - 1} sizes were tried`);
  }
}
