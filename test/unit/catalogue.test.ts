// The port's catalogue of upstream functions (src/cases/catalogue.ts): every case in it is
// a leaf of the plan, and the upstream reader (scripts/lab/upstream-cases.ts) names what a
// tree has that the port lacks. The real 7.2.13 files: test/e2e/upstream-catalogue.test.ts.
import t from 'tap';
import { CATALOGUE, caseName, portedCases, UPSTREAM } from '../../src/cases/catalogue.js';
import { buildPlan } from '../../src/cases/matrix.js';
import type { Caps, VmTypeCaps } from '../../src/kvm/caps.js';
import type { Kvm } from '../../src/kvm/kvm.js';
import { allIds } from '../../src/runner/plan.js';
import { bodyOf, calledTests, definedTests, guestMemfdGaps, memslotGaps } from '../../scripts/lab/upstream-cases.js';

const vmType = (type: number, name: string): VmTypeCaps => ({
  type, name, advertised: true, created: true, skipReason: null, skipDetail: null, guestMemfdFlags: 3, guestMemfd: 1,
});
// A host where every case is planned; building the plan opens nothing (VMs are made on first use).
const caps: Caps = {
  kernelRelease: 'test', pageSize: 4096, thpPmdSize: 2 << 20, numaNodes: 2, maxNumaNode: 1, device: '/dev/kvm', apiVersion: 12,
  capGuestMemfd: 1, capVmTypes: 1, capGuestMemfdFlags: 3, vmTypes: [vmType(0, 'default_vm')],
};
const noKvm = new Proxy({}, { get: () => { throw new Error('the plan touched the Kvm while being built'); } }) as Kvm;

t.test('every upstream case of the catalogue is a leaf of the full plan', async (t) => {
  const leaves = new Set(allIds(buildPlan(noKvm, caps, { mode: 'all' }), true).map((id) => id.split('.').pop()!));
  for (const f of CATALOGUE.filter((x) => x.role.kind === 'case')) {
    t.ok(leaves.has(caseName(f.name)), `${f.file} ${f.name} is the case ${caseName(f.name)}`);
  }
  t.ok(portedCases().includes('test_invalid_binding'), 'invalid_binding is ported');
  t.same(portedCases('set_memory_region_test.c'),
    ['test_invalid_memory_region_flags', 'test_add_private_memory_region', 'test_add_overlapping_private_memory_regions']);
  t.match(UPSTREAM.release, /^Linux \d+\.\d+\.\d+$/);
});

t.test('invalid_binding runs in every flag set, memslot_binding once per VM type', async (t) => {
  const ids = allIds(buildPlan(noKvm, caps, { mode: 'all' }), true);
  t.same(ids.filter((id) => id.endsWith('.invalid_binding')), [
    'default_vm.flags-none.invalid_binding', 'default_vm.flags-mmap.invalid_binding',
    'default_vm.flags-init_shared.invalid_binding', 'default_vm.flags-mmap-init_shared.invalid_binding',
  ]);
  t.same(ids.filter((id) => id.includes('.memslot_binding.')), [
    'default_vm.memslot_binding.invalid_memory_region_flags',
    'default_vm.memslot_binding.add_private_memory_region',
    'default_vm.memslot_binding.add_overlapping_private_memory_regions',
  ]);
});

t.test('a VM type without guest_memfd memslots skips the two binding cases, with the reason', async (t) => {
  const old = { ...caps, vmTypes: [{ ...vmType(0, 'default_vm'), guestMemfd: 0, guestMemfdFlags: 0 }] };
  const vm = buildPlan(noKvm, old, { mode: 'all' })[0]!;
  const memslot = vm.children!.find((c) => c.name === 'memslot_binding')!;
  t.same(memslot.children!.map((c) => [c.name, c.skip ?? 'runs']), [
    ['invalid_memory_region_flags', 'runs'],
    ['add_private_memory_region', 'KVM_CAP_GUEST_MEMFD is 0 for this VM type: it takes no guest_memfd memslots'],
    ['add_overlapping_private_memory_regions', 'KVM_CAP_GUEST_MEMFD is 0 for this VM type: it takes no guest_memfd memslots'],
  ]);
});

// A made-up guest_memfd_test.c in upstream's shape: the port has everything but test_new_case.
const fakeUpstream = (extra: string): string => `
#include <stdio.h>
${CATALOGUE.filter((f) => f.file === 'guest_memfd_test.c' && !f.name.startsWith('__') && f.name !== 'test_guest_memfd')
    .map((f) => `static void ${f.name}(int fd, size_t size)\n{\n\tif (x) {\n\t\ty();\n\t}\n}\n`).join('\n')}
${extra}
static void __test_guest_memfd(struct kvm_vm *vm, u64 flags)
{
	test_create_guest_memfd_multiple(vm);
	gmem_test(file_read_write, vm, flags);
	__gmem_test(collapse, vm, flags, pmd_size);
	gmem_test_vm(invalid_binding, vm, flags);
}

static void test_guest_memfd(unsigned long vm_type)
{
	__test_guest_memfd(vm, 0);
}

int main(int argc, char *argv[])
{
	test_guest_memfd(VM_TYPE_DEFAULT);
	test_guest_memfd_guest();
}
`;

t.test('the upstream reader finds definitions, bodies and the cases the drivers call', async (t) => {
  const src = fakeUpstream('');
  t.ok(definedTests(src).includes('__test_guest_memfd'));
  t.ok(definedTests(src).includes('test_fallocate'));
  t.notOk(definedTests(src).includes('main'));
  t.same(calledTests(bodyOf(src, '__test_guest_memfd')!),
    ['test_create_guest_memfd_multiple', 'test_file_read_write', 'test_collapse', 'test_invalid_binding']);
  t.match(bodyOf(src, 'test_fallocate'), /\{\n\t\ty\(\);\n\t\}/, 'nested braces stay in the body');
  t.same(guestMemfdGaps(src), [], 'a file the port covers has no gaps');
});

t.test('a case upstream has and the port lacks is named, defined or only called', async (t) => {
  const defined = fakeUpstream('static void test_new_case(int fd, size_t size)\n{\n}\n');
  t.same(guestMemfdGaps(defined), [{ file: 'guest_memfd_test.c', name: 'test_new_case', why: 'defined upstream, not in the port' }]);
  const called = fakeUpstream('').replace('gmem_test_vm(invalid_binding', 'gmem_test(brand_new');
  t.same(guestMemfdGaps(called), [
    { file: 'guest_memfd_test.c', name: 'test_brand_new', why: 'called by __test_guest_memfd(), not in the port' },
  ]);
  const gone = fakeUpstream('').replace(/static void test_invalid_binding[^}]*\}\n\}/, '');
  t.same(guestMemfdGaps(gone).map((g) => [g.name, g.why]), [['test_invalid_binding', 'in the port, no longer upstream']]);
});

t.test('set_memory_region_test.c: a guest_memfd function the port lacks is named, others are not', async (t) => {
  const src = ['test_invalid_memory_region_flags', 'test_add_private_memory_region',
    'test_add_overlapping_private_memory_regions', 'test_invalid_guest_memfd']
    .map((n) => `static void ${n}(void)\n{\n\tflags = KVM_MEM_GUEST_MEMFD;\n}\n`).join('\n');
  t.same(memslotGaps(src), []);
  const more = `${src}\nstatic void test_move_memory_region(bool q)\n{\n}\nstatic void test_gmem_resize(void)\n{\n\tf(KVM_MEM_GUEST_MEMFD);\n}\n`;
  t.same(memslotGaps(more), [{ file: 'set_memory_region_test.c', name: 'test_gmem_resize', why: 'binds guest_memfd upstream, not in the port' }]);
});
