/**
 * The run's plan, laid out as upstream's main(), test_guest_memfd() and
 * __test_guest_memfd() lay out their calls: per VM type, guest_memfd_flags once, then
 * per flag set the cases that set's MMAP / INIT_SHARED bits select.
 */
import type { Caps, VmTypeCaps } from '../kvm/caps.js';
import type { GuestMemfd } from '../kvm/guest-memfd.js';
import type { Kvm } from '../kvm/kvm.js';
import { GUEST_MEMFD_FLAG_INIT_SHARED, GUEST_MEMFD_FLAG_MMAP } from '../kvm/uapi/kvm.js';
import { vmTypeName } from '../kvm/vm-types.js';
import type { Vm } from '../kvm/vm.js';
import { group, leaf as planLeaf, skipped, type PlanNode } from '../runner/plan.js';
import { CheckFailure } from '../runner/outcome.js';
import { asserting } from './check.js';
import { collapse } from './collapse.js';
import { create_guest_memfd_invalid_sizes } from './create_guest_memfd_invalid_sizes.js';
import { create_guest_memfd_multiple } from './create_guest_memfd_multiple.js';
import type { CaseEnv } from './env.js';
import { fallocate } from './fallocate.js';
import { fault_overflow } from './fault_overflow.js';
import { fault_private } from './fault_private.js';
import { file_read_write } from './file_read_write.js';
import { file_size } from './file_size.js';
import { flagSetName, flagSets, unknownBits, unknownBitsReason, type MatrixMode } from './flag-sets.js';
import { guest_memfd_flags } from './guest_memfd_flags.js';
import { guest_memfd_guest } from './guest_memfd_guest.js';
import { add_overlapping_private_memory_regions } from './add_overlapping_private_memory_regions.js';
import { add_private_memory_region } from './add_private_memory_region.js';
import { invalid_binding } from './invalid_binding.js';
import { invalid_memory_region_flags } from './invalid_memory_region_flags.js';
import { BINDABLE_FLAGS } from './memory-region.js';
import { invalid_punch_hole } from './invalid_punch_hole.js';
import { mbind } from './mbind.js';
import { mmap_cow } from './mmap_cow.js';
import { mmap_not_supported } from './mmap_not_supported.js';
import { mmap_supported } from './mmap_supported.js';
import { numa_allocation } from './numa_allocation.js';
import { hex } from '../kvm/hex.js';

/** A case of the plan; a call refused through an asserting helper is its failed check (asserting()). */
const leaf = (parentId: string, name: string, run: () => void | Promise<void>): PlanNode =>
  planLeaf(parentId, name, () => asserting(run));

/** Opens the VM on first use, so a filtered run creates only what it needs. */
class LazyVm {
  #vm: Vm | null = null;
  constructor(private readonly kvm: Kvm, private readonly type: number) {}
  get(): Vm {
    this.#vm ??= this.kvm.createVm(this.type);
    return this.#vm;
  }
  close(): void {
    this.#vm?.close();
    this.#vm = null;
  }
}

type GmemCase = (gmem: GuestMemfd, totalSize: number, env: CaseEnv) => void;

interface Ctx {
  readonly vm: LazyVm;
  readonly env: CaseEnv;
  readonly flags: number;
  readonly id: string;
}

/** upstream's __gmem_test(): a fresh guest_memfd of `size` with the set's flags, closed after. */
function gmemTest(c: Ctx, name: string, fn: GmemCase, size = c.env.pageSize * 4): PlanNode {
  return leaf(c.id, name, () => withGmem(c, fn, size));
}

function withGmem(c: Ctx, fn: GmemCase, size: number): void {
  using gmem = c.vm.get().createGuestMemfd(size, c.flags);
  fn(gmem, size, c.env);
}

/** upstream's gmem_test_vm(): as gmemTest(), the case also given the VM. */
function gmemTestVm(c: Ctx, name: string, fn: (vm: Vm, ...rest: Parameters<GmemCase>) => void): PlanNode {
  return gmemTest(c, name, (gmem, size, env) => fn(c.vm.get(), gmem, size, env));
}

/** upstream's __test_guest_memfd(vm, flags). */
function flagSetCases(c: Ctx): PlanNode[] {
  const out: PlanNode[] = [
    leaf(c.id, 'create_guest_memfd_multiple', () => create_guest_memfd_multiple(c.vm.get(), c.env)),
    leaf(c.id, 'create_guest_memfd_invalid_sizes', () =>
      create_guest_memfd_invalid_sizes(c.vm.get(), c.flags, c.env)),
    gmemTest(c, 'file_read_write', file_read_write),
  ];
  if (c.flags & GUEST_MEMFD_FLAG_MMAP) {
    if (c.flags & GUEST_MEMFD_FLAG_INIT_SHARED) {
      out.push(
        gmemTest(c, 'mmap_supported', mmap_supported),
        gmemTest(c, 'fault_overflow', fault_overflow),
        gmemTest(c, 'numa_allocation', numa_allocation),
        c.env.thpPmdSize > 0 ? gmemTest(c, 'collapse', collapse, c.env.thpPmdSize)
          : skipped(c.id, 'collapse', 'no transparent huge pages on this kernel (hpage_pmd_size is 0)'),
      );
    } else {
      out.push(gmemTest(c, 'fault_private', fault_private));
    }
    out.push(gmemTest(c, 'mmap_cow', mmap_cow), gmemTest(c, 'mbind', mbind));
  } else {
    out.push(gmemTest(c, 'mmap_not_supported', mmap_not_supported));
  }
  out.push(
    gmemTest(c, 'file_size', file_size),
    gmemTest(c, 'fallocate', fallocate),
    gmemTest(c, 'invalid_punch_hole', invalid_punch_hole),
    gmemTestVm(c, 'invalid_binding', invalid_binding),
  );
  return out;
}

/**
 * The guest_memfd cases of set_memory_region_test.c, on fresh VMs of the group's type:
 * how a KVM_MEM_GUEST_MEMFD memslot binds (upstream runs them on the SW-protected VM
 * type only, as it was the one that took them; on 7.2 every VM type with guest_memfd does,
 * on arm64 with mmap()able guest_memfds only: BINDABLE_FLAGS).
 */
function memslotBinding(kvm: Kvm, t: VmTypeCaps, env: CaseEnv, parentId: string): PlanNode {
  // Upstream runs the two binding cases where guest_memfd memslots exist; a VM type whose
  // KVM_CAP_GUEST_MEMFD is 0 (the default VM before 6.18) refuses the memslot flag itself.
  const flags = t.guestMemfdFlags ?? 0;
  const noBinding = (t.guestMemfd ?? 0) === 0
    ? 'KVM_CAP_GUEST_MEMFD is 0 for this VM type: it takes no guest_memfd memslots'
    : (BINDABLE_FLAGS & ~flags) !== 0
      ? `this architecture binds only guest_memfds with flags ${hex(BINDABLE_FLAGS)}, which this VM type does not offer`
      : null;
  const bindingCase = (id: string, name: string, run: () => void): PlanNode =>
    noBinding === null ? leaf(id, name, run) : skipped(id, name, noBinding);
  return group(parentId, 'memslot_binding', (id) => [
    leaf(id, 'invalid_memory_region_flags', () => invalid_memory_region_flags(kvm, t.type)),
    bindingCase(id, 'add_private_memory_region', () => add_private_memory_region(kvm, t.type, env)),
    bindingCase(id, 'add_overlapping_private_memory_regions', () => add_overlapping_private_memory_regions(kvm, t.type)),
  ]);
}

/** upstream's test_guest_memfd(vm_type). */
function vmTypeGroup(kvm: Kvm, t: VmTypeCaps, env: CaseEnv, mode: MatrixMode): PlanNode {
  if (t.advertised && !t.created) {
    // Upstream's vm_create_barebones_type() asserts: a type KVM advertises must be creatable.
    return leaf('', t.name, () => {
      throw new CheckFailure(`KVM_CREATE_VM succeeds for VM type ${t.type}, which KVM_CAP_VM_TYPES advertises`,
        [`got: ${t.skipReason ?? 'no VM'}`]);
    });
  }
  if (t.skipReason !== null || t.guestMemfdFlags === null) {
    return skipped('', t.name, t.skipReason ?? 'not probed', t.skipDetail ? [`host: ${t.skipDetail}`] : []);
  }
  const vm = new LazyVm(kvm, t.type);
  const valid = t.guestMemfdFlags;
  return group('', t.name, (id) => [
    leaf(id, 'guest_memfd_flags', () => guest_memfd_flags(vm.get(), env)),
    ...flagSets(valid, mode).map((flags) => {
      const unknown = unknownBits(flags);
      return unknown.length > 0 ? skipped(id, flagSetName(flags), unknownBitsReason(unknown))
        : group(id, flagSetName(flags), (fid) => flagSetCases({ vm, env, flags, id: fid }));
    }),
    memslotBinding(kvm, t, env, id),
  ], () => vm.close());
}

export interface MatrixOptions {
  mode: MatrixMode;
  /** Restrict to these VM types (--vm-type); all x86 types otherwise. */
  vmTypes?: readonly number[];
}

/** The whole plan for a host whose capabilities are `caps`. */
export function buildPlan(kvm: Kvm, caps: Caps, opts: MatrixOptions): PlanNode[] {
  const env: CaseEnv = caps;
  const wanted = opts.vmTypes ?? caps.vmTypes.map((t) => t.type);
  const vmTypes = wanted.map((type) => {
    const t = caps.vmTypes.find((v) => v.type === type);
    if (!t) return skipped('', vmTypeName(type), `VM type ${type} not in KVM_CAP_VM_TYPES`, [`host: KVM_CAP_VM_TYPES=${hex(caps.capVmTypes)}`]);
    return vmTypeGroup(kvm, t, env, opts.mode);
  });
  // upstream's main(): after the per-VM-type cases, test_guest_memfd_guest (on a default
  // VM of its own). --vm-type selects the VM-type matrix only: the guest case is not in it.
  if (opts.vmTypes !== undefined) return vmTypes;
  return [...vmTypes, leaf('', 'guest_memfd_guest', () => guest_memfd_guest(kvm, env))];
}
