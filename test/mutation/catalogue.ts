// The perturbations: for every ported case, calls a broken kernel could answer
// differently, one per upstream assertion where the seam can reach it. Each must make
// its case report `not ok` with a `check:` diagnostic.
import { EBADF, EINVAL, ENODEV, ENOMEM, EOPNOTSUPP } from '../../src/kvm/errno.js';
import { bufferAt, type CallInfo, type Interceptor } from '../../src/kvm/libc.js';
import { OFFSETOF } from '../../src/kvm/structs.js';
import {
  FALLOC_FL_PUNCH_HOLE, MADV_COLLAPSE, MADV_DONTNEED, MADV_HUGEPAGE, MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, MPOL_BIND, MPOL_DEFAULT,
} from '../../src/kvm/uapi/linux.js';
import {
  GUEST_MEMFD_FLAG_INIT_SHARED, KVM_CREATE_GUEST_MEMFD, KVM_SET_USER_MEMORY_REGION2, KVM_CHECK_EXTENSION, KVM_RUN, KVM_CAP_GUEST_MEMFD_FLAGS, GUEST_MEMFD_FLAG_MMAP,
} from '../../src/kvm/uapi/kvm.js';
import { SYS_get_mempolicy, SYS_mbind, SYS_move_pages } from '../../src/kvm/arch/x86_64/uapi.js';
import { fails, fn, ioctl, rewriteU64, rule, ruleAfter, statField, structU64, succeeds, wrongErrno, type Effect } from './rules.js';

export interface Perturbation {
  /** The upstream case (name without test_). */
  readonly case: string;
  /** The test id it runs. */
  readonly id: string;
  /** What the broken kernel does. */
  readonly what: string;
  readonly make: () => Interceptor;
  /** Run against the simulated two-node kernel (numa-model.ts). */
  readonly numa?: boolean;
}

const PAGE = 4096;
const VM = 'default_vm';
const FLAGS = { none: 'flags-none', mmap: 'flags-mmap', shared: 'flags-mmap-init_shared' } as const;
const CG = OFFSETOF.kvm_create_guest_memfd;

const isCreate = ioctl(KVM_CREATE_GUEST_MEMFD);
/** KVM_CREATE_GUEST_MEMFD calls whose size and flags satisfy `pred`. */
const creating = (pred: (size: bigint, flags: bigint) => boolean) => (c: CallInfo): boolean =>
  isCreate(c) && pred(structU64(c, 2, CG.size), structU64(c, 2, CG.flags));

/** Rewrites an argument of the call in place, then makes it. */
const withArg = (index: number, value: (old: number) => number): Effect => (c, real) => {
  const args = c.args as (number | string)[];
  args[index] = value(args[index] as number);
  return real();
};
/** Makes the call, then reports a failure anyway. */
const failsAfter = (errno: number): Effect => (_c, real) => { real(); return { ret: -1, errno }; };

const syscall = (nr: number) => fn('syscall', (a) => a[0] === nr);
const mmapOfFile = fn('mmap', (a) => (a[4] as number) >= 0);
const isPunch = (a: readonly (number | string)[]): boolean => ((a[1] as number) & FALLOC_FL_PUNCH_HOLE) !== 0;

function p(kase: string, id: string, what: string, make: () => Interceptor, numa = false): Perturbation {
  return { case: kase, id, what, make, ...(numa ? { numa } : {}) };
}

const FALLOCATE_CALLS: readonly [string, boolean][] = [
  ['allocating the whole file', true],
  ['a hole at an unaligned offset', false],
  ['allocating from the end of the file', false],
  ['allocating past the end of the file', false],
  ['a hole from the end of the file', true],
  ['a hole past the end of the file', true],
  ['a hole of unaligned length', false],
  ['a hole of one aligned page', true],
  ['refilling the punched page', true],
];

const PUNCH_RANGES = ['0+1', '0+P-1', '0+P+1', '1+1', '1+P-1', '1+P', '1+P+1', 'P+1', 'P+P-1', 'P+P+1'];

export const CATALOGUE: readonly Perturbation[] = [
  // test_guest_memfd_flags
  p('guest_memfd_flags', `${VM}.guest_memfd_flags`, 'accepts unsupported flag bit 2',
    rule(creating((_s, f) => f === 4n), rewriteU64(2, CG.flags, 0n))),
  p('guest_memfd_flags', `${VM}.guest_memfd_flags`, 'accepts unsupported flag bit 63',
    rule(creating((_s, f) => f === 1n << 63n), rewriteU64(2, CG.flags, 0n))),
  p('guest_memfd_flags', `${VM}.guest_memfd_flags`, 'refuses the supported MMAP flag',
    rule(creating((_s, f) => f === 1n), fails(EINVAL))),
  p('guest_memfd_flags', `${VM}.guest_memfd_flags`, 'refuses an unsupported flag with EOPNOTSUPP, not EINVAL',
    rule(creating((_s, f) => f === 8n), wrongErrno(EOPNOTSUPP))),

  // test_create_guest_memfd_multiple
  ...([
    ['cannot create the first guest_memfd', rule(creating(() => true), fails(ENOMEM), 1)],
    ['cannot create the second guest_memfd', rule(creating(() => true), fails(ENOMEM), 2)],
    ['fstat fails', rule(fn('fstat'), fails(EBADF), 1)],
    ['reports a wrong size for the first file', rule(fn('fstat'), statField('st_size', (v) => v + 1n), 1)],
    ['reports a wrong size for the second file', rule(fn('fstat'), statField('st_size', (v) => v - 1n), 2)],
    ['changes the first file\'s size when a second is created', rule(fn('fstat'), statField('st_size', (v) => v * 2n), 3)],
    ['gives both files one inode', rule(fn('fstat'), statField('st_ino', () => 42n))],
  ] as const).map(([what, make]) => p('create_guest_memfd_multiple', `${VM}.${FLAGS.none}.create_guest_memfd_multiple`, what, make)),

  // test_create_guest_memfd_invalid_sizes
  p('create_guest_memfd_invalid_sizes', `${VM}.${FLAGS.none}.create_guest_memfd_invalid_sizes`, 'accepts size 1',
    rule(creating((s) => s === 1n), rewriteU64(2, CG.size, BigInt(PAGE)))),
  p('create_guest_memfd_invalid_sizes', `${VM}.${FLAGS.mmap}.create_guest_memfd_invalid_sizes`, 'accepts size page_size - 1',
    rule(creating((s) => s === BigInt(PAGE - 1)), rewriteU64(2, CG.size, BigInt(PAGE)))),
  p('create_guest_memfd_invalid_sizes', `${VM}.${FLAGS.none}.create_guest_memfd_invalid_sizes`, 'refuses size 0x801 with ENOMEM, not EINVAL',
    rule(creating((s) => s === 0x801n), wrongErrno(ENOMEM))),

  // test_file_read_write
  ...(['read', 'write', 'pread', 'pwrite'] as const).map((f) =>
    p('file_read_write', `${VM}.${FLAGS.none}.file_read_write`, `lets ${f}() of a guest_memfd succeed`, rule(fn(f), succeeds(64)))),

  // test_file_size
  p('file_size', `${VM}.${FLAGS.mmap}.file_size`, 'fstat fails', rule(fn('fstat'), fails(EBADF))),
  p('file_size', `${VM}.${FLAGS.mmap}.file_size`, 'reports st_size one page short', rule(fn('fstat'), statField('st_size', (v) => v - BigInt(PAGE)))),
  p('file_size', `${VM}.${FLAGS.mmap}.file_size`, 'reports st_blksize 512', rule(fn('fstat'), statField('st_blksize', () => 512n))),

  // test_fallocate: every call answered the other way
  ...FALLOCATE_CALLS.map(([what, okReal], i) =>
    p('fallocate', `${VM}.${FLAGS.none}.fallocate`, `${okReal ? 'refuses' : 'allows'} ${what}`,
      rule(fn('fallocate'), okReal ? fails(EINVAL) : succeeds(0), i + 1))),

  // test_invalid_punch_hole: every range allowed, and one refused with the wrong errno
  ...PUNCH_RANGES.map((range, i) =>
    p('invalid_punch_hole', `${VM}.${FLAGS.none}.invalid_punch_hole`, `allows a hole at offset+length ${range}`,
      rule(fn('fallocate'), succeeds(0), i + 1))),
  p('invalid_punch_hole', `${VM}.${FLAGS.shared}.invalid_punch_hole`, 'refuses an unaligned hole with EOPNOTSUPP',
    rule(fn('fallocate'), wrongErrno(EOPNOTSUPP), 4)),

  // test_mmap_not_supported
  p('mmap_not_supported', `${VM}.${FLAGS.none}.mmap_not_supported`, 'maps one page without MMAP',
    rule(mmapOfFile, withArg(3, () => MAP_PRIVATE | MAP_ANONYMOUS), 1)),
  p('mmap_not_supported', `${VM}.flags-init_shared.mmap_not_supported`, 'maps the whole file with only INIT_SHARED',
    rule(mmapOfFile, withArg(3, () => MAP_PRIVATE | MAP_ANONYMOUS), 2)),

  // test_mmap_cow
  p('mmap_cow', `${VM}.${FLAGS.mmap}.mmap_cow`, 'allows a copy-on-write mapping',
    rule(fn('mmap', (a) => a[3] === MAP_PRIVATE), withArg(3, () => MAP_SHARED))),

  // test_mmap_supported
  p('mmap_supported', `${VM}.${FLAGS.shared}.mmap_supported`, 'refuses a shared mapping', rule(mmapOfFile, fails(ENODEV))),
  p('mmap_supported', `${VM}.${FLAGS.shared}.mmap_supported`, 'maps memory that is not the file (a hole punched in it is not seen)',
    rule(mmapOfFile, (c, real) => { const a = c.args as number[]; a[3] = MAP_SHARED | MAP_ANONYMOUS; a[4] = -1; return real(); })),
  p('mmap_supported', `${VM}.${FLAGS.shared}.mmap_supported`, 'refuses to punch the first page', rule(fn('fallocate'), fails(EINVAL))),
  p('mmap_supported', `${VM}.${FLAGS.shared}.mmap_supported`, 'reports the hole punched but leaves the data',
    rule(fn('fallocate', isPunch), succeeds(0))),
  p('mmap_supported', `${VM}.${FLAGS.shared}.mmap_supported`, 'punches two pages when asked for one',
    rule(fn('fallocate', isPunch), withArg(3, (len) => len * 2))),
  p('mmap_supported', `${VM}.${FLAGS.shared}.mmap_supported`, 'fails munmap', rule(fn('munmap'), failsAfter(EINVAL))),

  // test_fault_overflow / test_fault_private (through test_fault_sigbus)
  p('fault_overflow', `${VM}.${FLAGS.shared}.fault_overflow`, 'does not fault past the end of the file (file is 8x larger)',
    rule(creating(() => true), (c, real) => rewriteU64(2, CG.size, structU64(c, 2, CG.size) * 8n)(c, real))),
  p('fault_overflow', `${VM}.${FLAGS.shared}.fault_overflow`, 'refuses the mapping the probe is checked through', rule(mmapOfFile, fails(ENODEV))),
  p('fault_private', `${VM}.${FLAGS.mmap}.fault_private`, 'lets the host touch private memory (made shared)',
    rule(creating(() => true), (c, real) =>
      rewriteU64(2, CG.flags, structU64(c, 2, CG.flags) | BigInt(GUEST_MEMFD_FLAG_INIT_SHARED))(c, real))),

  // test_collapse
  p('collapse', `${VM}.${FLAGS.shared}.collapse`, 'collapses guest_memfd folios (MADV_COLLAPSE succeeds)',
    rule(fn('madvise', (a) => a[2] === MADV_COLLAPSE), succeeds(0))),
  p('collapse', `${VM}.${FLAGS.shared}.collapse`, 'refuses MADV_COLLAPSE with EAGAIN, not EINVAL',
    rule(fn('madvise', (a) => a[2] === MADV_COLLAPSE), fails(11))),
  p('collapse', `${VM}.${FLAGS.shared}.collapse`, 'refuses MADV_HUGEPAGE', rule(fn('madvise', (a) => a[2] === MADV_HUGEPAGE), fails(EINVAL))),
  p('collapse', `${VM}.${FLAGS.shared}.collapse`, 'refuses MADV_DONTNEED', rule(fn('madvise', (a) => a[2] === MADV_DONTNEED), fails(EINVAL))),
  p('collapse', `${VM}.${FLAGS.shared}.collapse`, 'refuses the MAP_FIXED mapping',
    rule(fn('mmap', (a) => ((a[3] as number) & MAP_FIXED) !== 0), fails(ENOMEM))),

  // test_mbind (simulated two-node kernel)
  p('mbind', `${VM}.${FLAGS.shared}.mbind`, 'refuses mbind(MPOL_INTERLEAVE)', rule(syscall(SYS_mbind), fails(ENOMEM), 1), true),
  p('mbind', `${VM}.${FLAGS.shared}.mbind`, 'reports MPOL_BIND where MPOL_INTERLEAVE was set',
    rule(syscall(SYS_get_mempolicy), (c, real) => { const r = real(); writePolicy(c, MPOL_BIND); return r; }, 2), true),
  p('mbind', `${VM}.${FLAGS.shared}.mbind`, 'reports the wrong nodemask for MPOL_BIND',
    rule(syscall(SYS_get_mempolicy), (c, real) => { const r = real(); writeMask(c, 2n); return r; }, 3), true),
  p('mbind', `${VM}.${FLAGS.shared}.mbind`, 'ignores the reset to MPOL_DEFAULT',
    rule(syscall(SYS_mbind), (c, real) => ((c.args[3] as number) === MPOL_DEFAULT ? { ret: 0, errno: 0 } : real())), true),
  p('mbind', `${VM}.${FLAGS.shared}.mbind`, 'accepts the invalid policy 999',
    rule(syscall(SYS_mbind), (c, real) => ((c.args[3] as number) === 999 ? { ret: 0, errno: 0 } : real())), true),
  p('mbind', `${VM}.${FLAGS.shared}.mbind`, 'refuses policy 999 with ENOMEM, not EINVAL',
    rule(syscall(SYS_mbind), (c, real) => ((c.args[3] as number) === 999 ? { ret: -1, errno: ENOMEM } : real())), true),
  p('mbind', `${VM}.${FLAGS.shared}.mbind`, 'refuses MPOL_INTERLEAVE reads (get_mempolicy fails)',
    rule(syscall(SYS_get_mempolicy), fails(EINVAL), 2), true),

  // test_numa_allocation (simulated two-node kernel)
  p('numa_allocation', `${VM}.${FLAGS.shared}.numa_allocation`, 'refuses mbind(MPOL_BIND)', rule(syscall(SYS_mbind), fails(EINVAL), 1), true),
  p('numa_allocation', `${VM}.${FLAGS.shared}.numa_allocation`, 'puts page 1 on node 0 against its policy',
    rule(syscall(SYS_move_pages), (c, real) => { const r = real(); writeStatus(c, 1, 0); return r; }, 1), true),
  p('numa_allocation', `${VM}.${FLAGS.shared}.numa_allocation`, 'puts page 2 on node 1 against its policy',
    rule(syscall(SYS_move_pages), (c, real) => { const r = real(); writeStatus(c, 2, 1); return r; }, 1), true),
  p('numa_allocation', `${VM}.${FLAGS.shared}.numa_allocation`, 'keeps the old placement after the policies are swapped',
    rule(syscall(SYS_mbind), succeeds(0), 4), true),
  p('numa_allocation', `${VM}.${FLAGS.shared}.numa_allocation`, 'fails move_pages', rule(syscall(SYS_move_pages), fails(ENOMEM), 2), true),
  p('numa_allocation', `${VM}.${FLAGS.shared}.numa_allocation`, 'refuses to punch the whole file',
    rule(fn('fallocate', isPunch), fails(EINVAL), 2), true),

  // test_guest_memfd_guest (see Harness.runGuest)
  p('guest_memfd_guest', 'guest_memfd_guest', 'the guest reads a wrong byte (the host\'s 0xaa fill never reached the file)',
    rule((c) => c.remote === true && mmapOfFile(c), (c, real) => { const a = c.args as number[]; a[3] = MAP_PRIVATE | MAP_ANONYMOUS; a[4] = -1; return real(); }, 1)),
  p('guest_memfd_guest', 'guest_memfd_guest', 'the host does not see what the guest wrote (its last mapping is not the file)',
    ruleAfter(ioctl(KVM_RUN), mmapOfFile, (c, real) => { const a = c.args as number[]; a[3] = MAP_SHARED | MAP_ANONYMOUS; a[4] = -1; return real(); })),
  p('guest_memfd_guest', 'guest_memfd_guest', 'refuses to bind the guest_memfd memslot (slot 1)',
    rule(ioctl(KVM_SET_USER_MEMORY_REGION2, (region) => bufferAt(region, 4).readUInt32LE(0) === 1), fails(EINVAL))),
  p('guest_memfd_guest', 'guest_memfd_guest', 'the VM does not report INIT_SHARED',
    rule(ioctl(KVM_CHECK_EXTENSION, (cap) => cap === KVM_CAP_GUEST_MEMFD_FLAGS), succeeds(GUEST_MEMFD_FLAG_MMAP))),
];

function writePolicy(c: CallInfo, mode: number): void {
  const ptr = c.args[1] as number;
  if (ptr !== 0) bufferAt(ptr, 4).writeInt32LE(mode, 0);
}
function writeMask(c: CallInfo, mask: bigint): void {
  const ptr = c.args[2] as number;
  if (ptr !== 0) bufferAt(ptr, 8).writeBigUInt64LE(mask, 0);
}
function writeStatus(c: CallInfo, index: number, node: number): void {
  bufferAt((c.args[5] as number) + 4 * index, 4).writeInt32LE(node, 0);
}
