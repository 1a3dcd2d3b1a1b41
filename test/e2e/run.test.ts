// End to end on the real /dev/kvm: the whole run, its KTAP, its JSON, its exit code.
import t from 'tap';
import { knownFailureArgs } from '../helpers/known-failures.js';
import { find, ids, parseKtap, type KtapNode } from '../helpers/ktap.js';
import { gmemtest, kvmUnavailable } from '../helpers/kvm.js';

const skip = kvmUnavailable();
if (skip) t.comment(`skipping end-to-end tests: ${skip}`);

interface CapsJson {
  available: boolean;
  capVmTypes: number;
  capGuestMemfdFlags: number;
  pageSize: number;
  vmTypes: { name: string; type: number; skipReason: string | null; guestMemfdFlags: number | null }[];
}

const MMAP = 1;
const INIT_SHARED = 2;
const FD_CASES = ['create_guest_memfd_multiple', 'create_guest_memfd_invalid_sizes', 'file_read_write'];
const TAIL_CASES = ['file_size', 'fallocate', 'invalid_punch_hole', 'invalid_binding'];
const MEMSLOT_CASES = ['invalid_memory_region_flags', 'add_private_memory_region', 'add_overlapping_private_memory_regions'];

function subsets(valid: number): number[] {
  const out: number[] = [];
  for (let m = 0; m <= valid; m++) if ((m & valid) === m) out.push(m);
  return out;
}

function setName(flags: number): string {
  if (flags === 0) return 'flags-none';
  const parts: string[] = [];
  for (let b = 0; b < 31; b++) {
    if (!(flags & (1 << b))) continue;
    parts.push(b === 0 ? 'mmap' : b === 1 ? 'init_shared' : `bit${b}`);
  }
  return `flags-${parts.join('-')}`;
}

function leaves(n: KtapNode, prefix: string): [string, KtapNode][] {
  const id = prefix ? `${prefix}.${n.name}` : n.name;
  return n.children.length === 0 ? [[id, n]] : n.children.flatMap((c) => leaves(c, id));
}

/** The development host's known kernel differences read XFAIL (test/helpers/known-failures.ts). */
const xfailArgs = knownFailureArgs;

t.test('gmemtest caps --json', { skip: skip ?? false }, async (t) => {
  const r = gmemtest(['caps', '--json']);
  t.equal(r.status, 0, r.stderr);
  const caps = JSON.parse(r.stdout) as CapsJson;
  t.equal(caps.available, true);
  t.type(caps.capGuestMemfdFlags, 'number');
  t.same(caps.vmTypes.map((v) => v.name).slice(0, 6),
    ['default_vm', 'sw_protected_vm', 'sev_vm', 'sev_es_vm', 'snp_vm', 'tdx_vm']);
});

t.test('a full run: valid KTAP, a tree that follows the host, every case passes', { skip: skip ?? false }, async (t) => {
  const caps = JSON.parse(gmemtest(['caps', '--json']).stdout) as CapsJson;
  const r = gmemtest(xfailArgs());
  t.equal(r.status, 0, 'exit 0');
  t.equal(r.stderr, '', 'nothing on stderr');
  const k = parseKtap(r.stdout);
  t.equal(k.ok, true, 'tap-parser accepts it');
  t.same(k.failures, [], 'no parse failures');
  t.same(k.extra, [], 'no stray lines');
  t.ok(k.totals, 'a Totals line');
  t.match(r.stdout, /^# host: kernel \S+, device \/dev\/kvm/m, 'capabilities in the header');

  t.same(k.tree.map((n) => n.name), [...caps.vmTypes.map((v) => v.name), 'guest_memfd_guest'],
    'one top-level test per VM type, then guest_memfd_guest');
  for (const vt of caps.vmTypes) {
    const node = find(k.tree, vt.name)!;
    if (vt.skipReason !== null) {
      t.equal(node.directive, 'SKIP', `${vt.name} skipped`);
      t.equal(node.reason, vt.skipReason.replace(/#/g, ''), `${vt.name} says why`);
      continue;
    }
    const sets = subsets(vt.guestMemfdFlags!);
    t.same(node.children.map((c) => c.name), ['guest_memfd_flags', ...sets.map(setName), 'memslot_binding'],
      `${vt.name}: guest_memfd_flags, every subset of 0x${vt.guestMemfdFlags!.toString(16)}, then memslot_binding`);
    t.same(find(node.children, 'memslot_binding')!.children.map((c) => c.name), MEMSLOT_CASES,
      `${vt.name}.memslot_binding: set_memory_region_test's guest_memfd cases`);
    for (const flags of sets) {
      const names = find(node.children, setName(flags))!.children.map((c) => c.name);
      for (const c of [...FD_CASES, ...TAIL_CASES]) t.ok(names.includes(c), `${vt.name}.${setName(flags)} has ${c}`);
      t.equal(names.includes('mmap_not_supported'), !(flags & MMAP),
        `${vt.name}.${setName(flags)}: mmap_not_supported exactly when MMAP is not set`);
      if (flags & INIT_SHARED && !(flags & MMAP)) t.ok(names.includes('mmap_not_supported'), 'INIT_SHARED alone is not mappable');
    }
  }
  const all = k.tree.flatMap((n) => leaves(n, ''));
  const notOk = all.filter(([, n]) => !n.ok);
  t.same(notOk.map(([id]) => id), [], 'no case failed');
  const totals = k.totals!;
  t.equal(totals.fail, 0);
  t.equal(totals.pass! + totals.skip! + totals.xfail!, all.length, 'Totals count every leaf');
});

t.test('--matrix upstream runs upstream\'s three flag sets', { skip: skip ?? false }, async (t) => {
  const r = gmemtest(['--matrix', 'upstream', '--vm-type', 'default', ...xfailArgs()]);
  t.equal(r.status, 0);
  const k = parseKtap(r.stdout);
  const caps = JSON.parse(gmemtest(['caps', '--json']).stdout) as CapsJson;
  const valid = caps.vmTypes[0]!.guestMemfdFlags!;
  const want = ['guest_memfd_flags', 'flags-none'];
  if (valid & MMAP) want.push('flags-mmap');
  if (valid & INIT_SHARED) want.push('flags-mmap-init_shared');
  t.same(k.tree[0]!.children.map((c) => c.name), [...want, 'memslot_binding']);
});

t.test('--format json agrees with the KTAP', { skip: skip ?? false }, async (t) => {
  const ktap = parseKtap(gmemtest(xfailArgs()).stdout);
  const r = gmemtest(['--format', 'json', ...xfailArgs()]);
  t.equal(r.status, 0);
  const doc = JSON.parse(r.stdout) as { results: { id: string; status: string; duration_ms: number; diagnostics: string[] }[]; totals: Record<string, number> };
  const fromKtap = ids(ktap.tree).sort();
  t.same(doc.results.map((x) => x.id).sort(), fromKtap, 'same test ids');
  for (const res of doc.results) {
    const n = find(ktap.tree, res.id)!;
    const status = n.directive === 'SKIP' ? 'skip' : n.directive === 'XFAIL' ? 'xfail' : n.ok ? 'pass' : 'fail';
    t.equal(res.status, status, `${res.id} status`);
    t.type(res.duration_ms, 'number');
  }
  t.same(doc.totals, ktap.totals, 'same totals');
});

t.test('--list and --filter', { skip: skip ?? false }, async (t) => {
  const list = gmemtest(['--list', '--filter', '*fallocate']);
  t.equal(list.status, 0);
  const lines = list.stdout.trim().split('\n');
  t.ok(lines.length >= 1 && lines.every((l) => /^[a-z0-9_.-]+$/.test(l) && l.endsWith('.fallocate')), 'only matching ids');
  const run = gmemtest(['--filter', 'default_vm.flags-none.*', ...xfailArgs()]);
  t.equal(run.status, 0);
  const k = parseKtap(run.stdout);
  t.same(k.tree.map((n) => n.name), ['default_vm']);
  t.same(k.tree[0]!.children.map((n) => n.name), ['flags-none']);
});

t.test('GMEMTEST_PROGRESS=1: progress events on stderr only, stdout as without it', { skip: skip ?? false }, async (t) => {
  const args = ['--filter', 'default_vm.flags-none.*', ...xfailArgs()];
  const plain = gmemtest(args);
  const watched = gmemtest(args, { GMEMTEST_PROGRESS: '1' });
  t.equal(watched.status, plain.status);
  t.equal(watched.stdout, plain.stdout, 'the KTAP is the same');
  t.equal(plain.stderr, '', 'nothing on stderr unasked');
  const lines = watched.stderr.trim().split('\n');
  const n = readKtapTotals(plain.stdout);
  t.equal(lines[0], `gmemtest: progress running 0/${n}`);
  t.equal(lines.at(-2), `gmemtest: progress running ${n}/${n}`, 'the last case is always reported');
  t.equal(lines.at(-1), `gmemtest: progress done ${n}/${n}`);
  t.ok(lines.every((l) => /^gmemtest: progress (running|done) \d+\/\d+$/.test(l)), 'only event lines');
});

function readKtapTotals(text: string): number {
  const m = /^# Totals: pass:(\d+) fail:(\d+) xfail:(\d+) xpass:(\d+) skip:(\d+) error:(\d+)$/m.exec(text)!;
  return m.slice(1).reduce((a, b) => a + Number(b), 0);
}
