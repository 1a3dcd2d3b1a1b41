/**
 * What the port mirrors, by upstream's names: every test_* function of the selftests'
 * guest_memfd_test.c of the kernel named in UPSTREAM (and the guest_memfd cases of
 * set_memory_region_test.c), each either a case of the plan (a leaf of that name) or
 * a piece of the plan's shape. The kernel lab reads the tree's own file and fails naming
 * any test_* function, or any call of __test_guest_memfd(), test_guest_memfd() or main(),
 * that is not here; test/unit/catalogue.test.ts checks every case below is a leaf of the plan.
 */

/** The source whose cases the port follows: the kernel under test's, as of this release. */
export const UPSTREAM = {
  file: 'tools/testing/selftests/kvm/guest_memfd_test.c',
  release: 'Linux 7.2.13',
} as const;

export type Role =
  /** A case of the plan, a leaf named as the function without `test_`. */
  | { kind: 'case' }
  /** Not a case of its own: the named part of gmemtest does its work. */
  | { kind: 'shape'; by: string };

export interface UpstreamFunction {
  readonly name: string;
  readonly file: 'guest_memfd_test.c' | 'set_memory_region_test.c';
  readonly role: Role;
}

const c = (name: string, file: UpstreamFunction['file'] = 'guest_memfd_test.c'): UpstreamFunction =>
  ({ name, file, role: { kind: 'case' } });
const shape = (name: string, by: string, file: UpstreamFunction['file'] = 'guest_memfd_test.c'): UpstreamFunction =>
  ({ name, file, role: { kind: 'shape', by } });

export const CATALOGUE: readonly UpstreamFunction[] = [
  c('test_file_read_write'),
  c('test_mmap_cow'),
  c('test_mmap_supported'),
  c('test_mbind'),
  c('test_numa_allocation'),
  c('test_collapse'),
  shape('test_fault_sigbus', 'cases/fault-sigbus.ts, called by fault_overflow and fault_private as upstream calls it'),
  c('test_fault_overflow'),
  c('test_fault_private'),
  c('test_mmap_not_supported'),
  c('test_file_size'),
  c('test_fallocate'),
  c('test_invalid_punch_hole'),
  c('test_invalid_binding'),
  c('test_create_guest_memfd_invalid_sizes'),
  c('test_create_guest_memfd_multiple'),
  c('test_guest_memfd_flags'),
  shape('__test_guest_memfd', 'cases/matrix.ts flagSetCases(): one group per flag set'),
  shape('test_guest_memfd', 'cases/matrix.ts vmTypeGroup(): one group per VM type'),
  c('test_guest_memfd_guest'),
  c('test_invalid_memory_region_flags', 'set_memory_region_test.c'),
  c('test_add_private_memory_region', 'set_memory_region_test.c'),
  shape('test_invalid_guest_memfd', 'cases/add_private_memory_region.ts expectRefused()', 'set_memory_region_test.c'),
  c('test_add_overlapping_private_memory_regions', 'set_memory_region_test.c'),
];

/** The plan's leaf name for an upstream case: `test_fallocate` is `fallocate`. */
export const caseName = (fn: string): string => fn.replace(/^test_/, '');

/** The upstream cases of one file that are cases of the plan. */
export function portedCases(file: UpstreamFunction['file'] = 'guest_memfd_test.c'): string[] {
  return CATALOGUE.filter((f) => f.file === file && f.role.kind === 'case').map((f) => f.name);
}
