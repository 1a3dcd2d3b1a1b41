/**
 * The asserting helpers the upstream cases call from the selftests' library
 * (kvm_util.h, kvm_syscalls.h, numaif.h), as checks: each one's failure is the
 * case's `not ok`, with what was expected and what came.
 *
 * Memory of a guest_memfd is mapped and touched only in an access helper (RemoteMm, one
 * per case or per faulting access): a SIGBUS or SIGSEGV there is that case's finding,
 * named by the access, the offset and the signal, and the run goes on.
 */
import { errnoName } from '../kvm/errno.js';
import { hex } from '../kvm/hex.js';
import type { GuestMemfd } from '../kvm/guest-memfd.js';
import type { Mapping } from '../kvm/mapping.js';
import { numaAvailable } from '../kvm/numa.js';
import { MAP_SHARED, PROT_READ, PROT_WRITE } from '../kvm/uapi/linux.js';
import { HELPER_FD, RemoteMm, type Access } from '../isolate/remote-mm.js';
import type { Result } from '../kvm/result.js';
import { FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE } from '../kvm/uapi/linux.js';
import { CaseTimeout, CheckFailure } from '../runner/outcome.js';
import { expectOk, expectResult, skip } from './check.js';
import type { CaseEnv } from './env.js';

/** fallocate mode of every hole punched in the cases. */
export const PUNCH_HOLE = FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE;

/** kvm_mmap(): a shared read/write mapping that must succeed. */
export function kvmMmap(gmem: GuestMemfd, length: number): Mapping {
  return expectResult(gmem.tryMmap(length), `mmap(MAP_SHARED) of ${hex(length)} bytes succeeds`, 'MAP_FAILED');
}

/** kvm_munmap(): munmap that must succeed. */
export function kvmMunmap(m: Mapping): void {
  expectOk(m.unmap(), `munmap of the ${hex(m.length)}-byte mapping succeeds`);
}

/** TEST_ASSERT_EQ(mem, MAP_FAILED): the mmap must have failed (a mapping made anyway is undone). */
export function expectMapFailed(r: Result<Mapping>, what: string): void {
  if (!r.ok) return;
  const addr = r.value.addr;
  r.value.unmap();
  throw new CheckFailure(what, ['expected: MAP_FAILED', `got: a mapping at ${hex(addr)}`]);
}

/** A guest_memfd mapped in an access helper: its address there and its length. */
export interface HelperMapping {
  readonly mm: RemoteMm;
  readonly addr: number;
  readonly length: number;
}

/** The helper for a case's memory work, with `gmem` as its file. */
export const accessHelperFor = (gmem: GuestMemfd): RemoteMm => RemoteMm.start(gmem.fd);

/** kvm_mmap() in the helper: a mapping of its file that must succeed (shared, read/write by default). */
export function kvmMmapIn(mm: RemoteMm, length: number,
  o: { addr?: number; prot?: number; flags?: number } = {}): HelperMapping {
  const r = mm.mmap(o.addr ?? 0, length, o.prot ?? PROT_READ | PROT_WRITE, o.flags ?? MAP_SHARED, HELPER_FD, 0);
  if (r.ret < 0) {
    throw new CheckFailure(`mmap(${o.flags === undefined ? 'MAP_SHARED' : hex(o.flags)}) of ${hex(length)} bytes succeeds`,
      ['expected: success', `got: MAP_FAILED (${errnoName(r.errno)})`]);
  }
  return { mm, addr: r.ret, length };
}

/** kvm_munmap() in the helper. */
export function kvmMunmapIn(m: HelperMapping, length = m.length): void {
  expectOk(m.mm.munmap(m.addr, length), `munmap of the ${hex(length)}-byte mapping succeeds`);
}

/** How an access that did not complete ended, as diagnostics (the signal, where, which access). */
function endedLines(m: HelperMapping, a: Extract<Access, { ok: false }>): string[] {
  const f = a.failure;
  const head = f.status === 'timeout' ? `got: no answer within ${f.limitMs} ms`
    : f.fault ? `got: ${f.fault.signalName} at offset ${hex(f.fault.addr - m.addr)} of the mapping (address ${hex(f.fault.addr)})`
      : `got: the helper ${f.end.kind === 'signaled' ? `was killed by ${f.end.signalName}` : `exited with code ${f.end.code}`}`;
  return [head, ...a.lines];
}

/**
 * An access upstream makes in its own process, which must complete (memset, READ_ONCE):
 * returns what it read. A signal is the case's failed check; no answer, its TIMEOUT.
 */
export function accessed(m: HelperMapping, a: Access, what: string): Buffer {
  if (a.ok) return a.data ?? Buffer.alloc(0);
  if (a.failure.status === 'timeout') throw new CaseTimeout(`access did not finish: ${what}`, endedLines(m, a));
  throw new CheckFailure(what, ['expected: the access completes', ...endedLines(m, a)]);
}

/** TEST_EXPECT_SIGBUS: the access must be stopped by SIGBUS, once the helper had it in hand. */
export function expectSigbusOn(m: HelperMapping, a: Access, what: string, access: string): void {
  if (a.ok) throw new CheckFailure(what, ['expected: SIGBUS', `got: the ${access} completed`]);
  const f = a.failure;
  if (f.status === 'timeout') throw new CaseTimeout(`access did not finish: ${what}`, endedLines(m, a));
  if (f.armed && f.end.kind === 'signaled' && f.end.signalName === 'SIGBUS') return;
  throw new CheckFailure(what, ['expected: SIGBUS', ...endedLines(m, a)]);
}

/** TEST_ASSERT_EQ(READ_ONCE(mem[i]), want) for each byte read from [from, from + data.length). */
export function expectBytes(data: Uint8Array, from: number, want: number, what: string): void {
  for (let i = 0; i < data.length; i++) {
    const got = data[i]!;
    if (got !== want) {
      throw new CheckFailure(what, [`offset: ${hex(from + i)}`, `expected: ${hex(want)}`, `got: ${hex(got)}`]);
    }
  }
}

/** upstream's is_multi_numa_node_system(), as a skip with the reason. */
export function requireMultiNode(env: CaseEnv): void {
  if (!numaAvailable()) skip('NUMA is not available (get_mempolicy: ENOSYS or EPERM)');
  // env.numaNodes counts /sys/devices/system/node/online, as numa_max_node() does.
  if (env.numaNodes < 2) {
    skip('needs a multi-node NUMA system', [`host: this host has ${env.numaNodes} NUMA node${env.numaNodes === 1 ? '' : 's'}`]);
  }
}
