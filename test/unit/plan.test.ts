// Test ids, globs, filters, flag sets and VM type names: the pieces the plan is built from.
import t from 'tap';
import { countList } from '../../src/kvm/host.js';
import { parseVmType, vmTypeName } from '../../src/kvm/vm-types.js';
import { allIds, filterPlan, globToRegExp, group, leaf, skipped } from '../../src/runner/plan.js';
import { parseXfail, XfailFileError, xfailReason } from '../../src/runner/xfail.js';
import { flagSetName, flagSets } from '../../src/cases/flag-sets.js';

const nop = (): void => {};
const plan = [
  group('', 'default_vm', (id) => [
    leaf(id, 'guest_memfd_flags', nop),
    group(id, 'flags-none', (f) => [leaf(f, 'file_size', nop), leaf(f, 'fallocate', nop)]),
    group(id, 'flags-mmap', (f) => [leaf(f, 'fault_private', nop), leaf(f, 'fallocate', nop)]),
  ]),
  skipped('', 'sev_vm', 'not supported'),
];

t.test('ids are dotted paths and names are checked', async (t) => {
  t.same(allIds(plan, true), [
    'default_vm.guest_memfd_flags', 'default_vm.flags-none.file_size', 'default_vm.flags-none.fallocate',
    'default_vm.flags-mmap.fault_private', 'default_vm.flags-mmap.fallocate', 'sev_vm',
  ]);
  t.throws(() => leaf('', 'Bad Name', nop), /invalid test name/);
  t.throws(() => leaf('', 'a.b', nop), /invalid test name/);
});

t.test('globs', async (t) => {
  t.ok(globToRegExp('*fault*').test('default_vm.flags-mmap.fault_private'), '* crosses dots');
  t.ok(globToRegExp('default_vm.flags-?one.*').test('default_vm.flags-none.file_size'));
  t.notOk(globToRegExp('default_vm').test('default_vm.x'), 'anchored');
  t.ok(globToRegExp('[a-c]ev_vm').test('sev_vm') === false && globToRegExp('[s]ev_vm').test('sev_vm'));
  t.ok(globToRegExp('a+b(c)').test('a+b(c)'), 'regex characters are literal');
});

t.test('filters keep matches, their subtrees and their ancestors', async (t) => {
  t.same(allIds(filterPlan(plan, ['*fallocate']), true),
    ['default_vm.flags-none.fallocate', 'default_vm.flags-mmap.fallocate']);
  t.same(allIds(filterPlan(plan, ['default_vm.flags-mmap']), true),
    ['default_vm.flags-mmap.fault_private', 'default_vm.flags-mmap.fallocate']);
  t.same(allIds(filterPlan(plan, ['sev_vm', '*guest_memfd_flags']), true), ['default_vm.guest_memfd_flags', 'sev_vm']);
  t.same(filterPlan(plan, ['nothing']), []);
  t.equal(filterPlan(plan, []).length, 2, 'no filter keeps everything');
});

t.test('flag sets: every subset, or upstream\'s three', async (t) => {
  t.same(flagSets(0, 'all'), [0]);
  t.same(flagSets(3, 'all'), [0, 1, 2, 3]);
  t.same(flagSets(1, 'all'), [0, 1]);
  t.same(flagSets(7, 'all'), [0, 1, 2, 3, 4, 5, 6, 7], 'an unknown future bit is combined too');
  t.same(flagSets(3, 'upstream'), [0, 1, 3]);
  t.same(flagSets(1, 'upstream'), [0, 1]);
  t.same(flagSets(0, 'upstream'), [0]);
  t.same([0, 1, 2, 3, 5].map(flagSetName),
    ['flags-none', 'flags-mmap', 'flags-init_shared', 'flags-mmap-init_shared', 'flags-mmap-bit2']);
});

t.test('VM type names and --vm-type parsing', async (t) => {
  t.equal(vmTypeName(0), 'default_vm');
  t.equal(vmTypeName(5), 'tdx_vm');
  t.equal(vmTypeName(9), 'vm_type_9');
  for (const [text, want] of [['default', 0], ['default_vm', 0], ['SEV-ES', 3], ['snp', 4], ['5', 5], ['vm_type_9', 9],
    ['bogus', null], ['64', null], ['-1', null], ['', null]] as const) {
    t.equal(parseVmType(text), want, `'${text}'`);
  }
});

t.test('xfail files', async (t) => {
  const rules = parseXfail('# comment\n\nguest_memfd_guest  nested KVM does not serve guest_memfd-only memslots\n*.collapse  THP # quirk\n', 'x.txt');
  t.equal(rules.length, 2);
  t.equal(xfailReason(rules, 'guest_memfd_guest'), 'nested KVM does not serve guest_memfd-only memslots');
  t.equal(xfailReason(rules, 'default_vm.flags-mmap.collapse'), 'THP quirk', '# is removed from reasons');
  t.equal(xfailReason(rules, 'default_vm.flags-mmap.fallocate'), null);
  t.throws(() => parseXfail('default_vm.x known\njust_a_glob\n', 'f.txt'), new XfailFileError("f.txt:2: expected '<test-id glob> <reason>', got 'just_a_glob'"));
  t.throws(() => parseXfail('Bad/Glob reason\n', 'f.txt'), /f\.txt:1: 'Bad\/Glob' is not a test-id glob/);
});

t.test('NUMA node lists', async (t) => {
  t.equal(countList('0\n'), 1);
  t.equal(countList('0-1'), 2);
  t.equal(countList('0,2-4,7'), 5);
  t.equal(countList(''), 0);
});
