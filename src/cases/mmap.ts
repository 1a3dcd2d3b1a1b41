/**
 * Ports of the mmap cases of guest_memfd_test.c that need no fault:
 * test_mmap_not_supported, test_mmap_cow, test_mmap_supported.
 */
import type { GuestMemfd } from '../kvm/guest-memfd.js';
import type { Result } from '../kvm/result.js';
import type { Mapping } from '../kvm/mapping.js';
import { FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../kvm/uapi.js';
import { expectOk, expectResult } from './check.js';
import { CheckFailure } from '../runner/outcome.js';
import { hex } from '../kvm/hex.js';
import type { CaseEnv } from './env.js';

function expectMapFailed(r: Result<Mapping>, what: string): void {
  if (!r.ok) return;
  const addr = r.value.addr;
  r.value.unmap();
  throw new CheckFailure(what, ['expected: MAP_FAILED', `got: a mapping at 0x${addr.toString(16)}`]);
}

/** kvm_mmap(): a shared read/write mapping that must succeed. */
export function mapShared(gmem: GuestMemfd, length: number): Mapping {
  return expectResult(gmem.tryMmap(length), `mmap(MAP_SHARED) of ${hex(length)} bytes succeeds`, 'MAP_FAILED');
}

/** kvm_munmap(): munmap that must succeed. */
export function unmapChecked(m: Mapping): void {
  expectOk(m.unmap(), `munmap of the 0x${m.length.toString(16)}-byte mapping succeeds`);
}

/**
 * Every byte of [from, to) of the mapping reads as `want`: one real load per byte
 * from the mapping's zero-copy Buffer.
 */
export function expectBytes(m: Mapping, from: number, to: number, want: number, what: string): void {
  const mem = m.mem;
  for (let i = from; i < to; i++) {
    const got = mem[i]!;
    if (got !== want) {
      throw new CheckFailure(what, [`offset: 0x${i.toString(16)}`, `expected: 0x${want.toString(16)}`,
        `got: 0x${got.toString(16)}`]);
    }
  }
}

/** Without GUEST_MEMFD_FLAG_MMAP, a shared mapping of one page or of the whole file fails. */
export function mmap_not_supported(gmem: GuestMemfd, totalSize: number, env: CaseEnv): void {
  expectMapFailed(gmem.tryMmap(env.pageSize), 'mmap(MAP_SHARED) of one page fails without MMAP');
  expectMapFailed(gmem.tryMmap(totalSize), 'mmap(MAP_SHARED) of the whole file fails without MMAP');
}

/** A private (copy-on-write) mapping of a guest_memfd is refused. */
export function mmap_cow(gmem: GuestMemfd, totalSize: number, _env: CaseEnv): void {
  expectMapFailed(gmem.tryMmap(totalSize, PROT_READ | PROT_WRITE, MAP_PRIVATE),
    'mmap(MAP_PRIVATE) of a guest_memfd fails: no copy-on-write');
}

/**
 * Shared memory is read/write through a mapping; punching the first page reads back
 * as zeroes there and leaves the rest; writing it again refills it.
 */
export function mmap_supported(gmem: GuestMemfd, totalSize: number, env: CaseEnv): void {
  const val = 0xaa;
  const page = env.pageSize;
  using m = mapShared(gmem, totalSize);

  m.mem.fill(val, 0, totalSize);
  expectBytes(m, 0, totalSize, val, 'every byte reads back what memset stored');

  expectOk(gmem.fallocate(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, 0, page),
    'PUNCH_HOLE of the first page succeeds');
  expectBytes(m, 0, page, 0x00, 'the punched first page reads as zeroes');
  expectBytes(m, page, totalSize, val, 'the pages after the hole still hold the value');

  m.mem.fill(val, 0, page);
  expectBytes(m, 0, totalSize, val, 'after refilling the first page every byte holds the value');

  unmapChecked(m);
}
