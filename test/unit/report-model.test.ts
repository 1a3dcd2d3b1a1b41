// gmemtest report's reading and matrix, on real results (test/report/fixtures: this host's
// runs, real boots of Debian's 7.2 and 6.12 kernels, a boot killed at its timeout) and on
// the flat form of part 9, hand-made after its spec until --format ktap-flat lands.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { readKtap } from '../../src/ktap/reader.js';
import { loadRuns, ReportInputError } from '../../src/report/inputs.js';
import { buildMatrix, mergeOrder, rowShown, type Run } from '../../src/report/model.js';

const FIX = fileURLToPath(new URL('../report/fixtures/', import.meta.url));
const fx = (name: string): string => join(FIX, name);
const one = (name: string): Run => loadRuns([fx(name)])[0]!;

interface JsonDoc { totals: Record<string, number>; results: { id: string; kind: string; status: string; diagnostics: string[] }[] }
const json = (name: string): JsonDoc => JSON.parse(readFileSync(fx(name), 'utf8')) as JsonDoc;

t.test('a --format json run: every case, its status and diagnostics, the host', async (t) => {
  const r = one('host.json');
  const doc = json('host.json');
  const cases = doc.results.filter((x) => x.kind === 'case');
  t.equal(r.source, 'json');
  t.equal(r.kernel, 'kernel' in r.capabilitiesRecord ? null : (r.capabilitiesRecord as { kernelRelease: string }).kernelRelease);
  t.same([...r.cells.keys()], cases.map((c) => c.id), 'the cases, in the run\'s order');
  for (const c of cases) t.equal(r.cells.get(c.id)!.status, c.status, c.id);
  const failed = cases.filter((c) => c.status === 'fail');
  for (const f of failed) t.same(r.cells.get(f.id)!.diagnostics, f.diagnostics, `${f.id}: its diagnostics`);
  t.same(r.totals, doc.totals);
  t.ok(r.capabilities.some(([k]) => k === 'KVM_CAP_GUEST_MEMFD_FLAGS'), 'capabilities listed');
  t.equal(r.problem, null);
});

t.test('the KTAP of the same host run reads the same as its JSON', async (t) => {
  const fromJson = one('host.json');
  const fromKtap = one('host.ktap');
  t.equal(fromKtap.source, 'ktap');
  t.same([...fromKtap.cells.keys()], [...fromJson.cells.keys()], 'same ids, same order');
  for (const [id, c] of fromJson.cells) {
    const k = fromKtap.cells.get(id)!;
    t.equal(k.status, c.status, id);
    // KTAP has the reason in the directive and the diagnostics before the result.
    if (c.status === 'fail') t.same(k.diagnostics, c.diagnostics, `${id}: diagnostics`);
    if (c.status === 'skip') t.equal(k.reason, c.reason, `${id}: skip reason`);
  }
  t.equal(fromKtap.kernel, fromJson.kernel);
  t.same(fromKtap.capabilities.filter(([k]) => k !== 'matrix'), fromJson.capabilities, 'the header gives the probe\'s answers');
});

t.test('a gmemtest boot KTAP: the guest\'s cases, the release, QEMU, the guest header', async (t) => {
  const sid = one('boot-sid.ktap');
  const doc = readKtap(readFileSync(fx('boot-sid.ktap'), 'utf8'));
  t.equal(sid.source, 'boot');
  t.equal(sid.kernel, '7.2.13+deb14-amd64');
  t.equal(sid.cells.size, doc.totals!.pass + doc.totals!.skip + doc.totals!.fail + doc.totals!.error + doc.totals!.xfail + doc.totals!.xpass, 'a cell per guest case');
  t.notOk([...sid.cells.keys()].some((id) => id.startsWith('linux-')), 'ids are the guest\'s own, without the release prefix');
  t.equal(sid.cells.get('default_vm.flags-mmap.mbind')!.status, 'pass', 'mbind passes with 2 NUMA nodes');
  t.equal(sid.cells.get('default_vm.guest_memfd_flags')!.diagnostics.length, 0, 'the guest header is not the first case\'s diagnostics');
  t.match(sid.environment, /QEMU tcg, 2 vCPUs, 2048 MiB, 2 NUMA nodes/);
  t.ok(sid.capabilities.some(([k, v]) => k === 'KVM_CAP_GUEST_MEMFD_FLAGS' && v === '0x3'), 'the guest\'s capabilities');
  t.ok(sid.capabilities.some(([k]) => k === 'kernel image'), 'the boot\'s own facts');
  const trixie = one('boot-trixie.ktap');
  t.equal(trixie.kernel, '6.12.117+deb13-amd64');
  t.ok(trixie.capabilities.some(([k, v]) => k === 'KVM_CAP_GUEST_MEMFD_FLAGS' && v === '0x0'));
  t.equal(trixie.cells.get('guest_memfd_guest')!.status, 'skip');
  t.match(trixie.cells.get('guest_memfd_guest')!.reason!, /KVM_CAP_GUEST_MEMFD_FLAGS is 0/);
});

t.test('a boot that never ran the guest: no cells, the problem with the console', async (t) => {
  const r = one('boot-timeout.ktap');
  t.equal(r.cells.size, 0);
  t.equal(r.problem!.status, 'timeout');
  t.equal(r.problem!.message, 'the kernel did not reach /init; QEMU killed');
  t.ok(r.problem!.diagnostics.some((d) => d.includes('console, last')), 'the console lines come along');
});

t.test('a JSON run inside a guest kernel and one on this host: two kernels side by side', async (t) => {
  const m = buildMatrix(loadRuns([fx('guest-sid.json'), fx('host.json')]));
  t.same(m.runs.map((r) => r.kernel), ['7.2.13+deb14-amd64', json('host.json') && one('host.json').kernel]);
  const mbind = m.rows.find((r) => r.id === 'default_vm.flags-mmap.mbind')!;
  t.same(mbind.cells.map((c) => c!.status), ['pass', 'skip'], 'two NUMA nodes in the guest, one here');
  t.ok(mbind.differs);
  t.notOk(mbind.failing);
  const same = m.rows.find((r) => r.id === 'default_vm.flags-none.fallocate')!;
  t.notOk(same.differs, 'a case both pass does not differ');
});

t.test('the matrix: union of ids in each run\'s order, counts per run equal each document\'s totals', async (t) => {
  const runs = loadRuns([fx('boot-sid.ktap'), fx('boot-trixie.ktap'), fx('boot-timeout.ktap'), fx('host.json'), fx('host-upstream-xfail.json')]);
  const m = buildMatrix(runs);
  t.equal(m.rows.length, 42, 'the 7.2 run has every case; the others a subset');
  t.same(m.rows.map((r) => r.id), [...runs[0]!.cells.keys()], 'in the order of the run that has them all');
  for (const [i, r] of runs.entries()) {
    const c = m.counts[i]!;
    const tot = r.totals!;
    if (r.cells.size === 0) { t.equal(c.missing, 42, `${r.label}: every case not run`); continue; }
    t.same({ pass: c.pass, fail: c.fail + c.timeout, xfail: c.xfail, xpass: c.xpass, skip: c.skip, error: c.error }, tot, `${r.label}: counts = Totals`);
    t.equal(c.missing, 42 - r.cells.size, `${r.label}: missing = rows it lacks`);
  }
  const trixieOnlyNone = m.rows.filter((r) => r.id.startsWith('default_vm.flags-mmap.'));
  t.ok(trixieOnlyNone.every((r) => r.cells[1] === null && r.differs), '6.12 has no flags-mmap: missing there, so those rows differ');
  const guest = m.rows.find((r) => r.id === 'guest_memfd_guest')!;
  t.same(guest.cells.map((c) => c?.status ?? null), ['pass', 'skip', null, 'fail', 'xfail']);
  t.ok(guest.failing, 'a failure anywhere makes the row failing');
  t.equal(m.rows.filter((r) => r.failing).length, 1, 'only guest_memfd_guest fails (on the kvm_pvm host)');
  const skips = m.rows.find((r) => r.id === 'sev_vm')!;
  t.notOk(skips.differs, 'a run without cells (the boot killed at its timeout) is not compared');
  t.same(m.rows.filter((r) => rowShown(r, { onlyFailures: true })).map((r) => r.id), ['guest_memfd_guest']);
  t.ok(m.rows.filter((r) => rowShown(r, { onlyDifferences: true })).every((r) => r.differs));
});

t.test('mergeOrder keeps every run\'s own order', async (t) => {
  t.same(mergeOrder([['a', 'c'], ['a', 'b', 'c', 'd'], ['x', 'c']]), ['a', 'b', 'x', 'c', 'd']);
  t.same(mergeOrder([[], ['a']]), ['a']);
  t.same(mergeOrder([['a', 'b'], ['z']]), ['a', 'b', 'z'], 'nothing in common: after');
});

t.test('the flat form (part 9): full ids, bare SKIP with a skip: line, diagnostics after the result', async (t) => {
  const flat = one('flat-host.ktap');
  const nested = one('host.json');
  t.same([...flat.cells.keys()], [...nested.cells.keys()], 'the same ids as the nested run');
  for (const [id, c] of nested.cells) t.equal(flat.cells.get(id)!.status, c.status, id);
  t.equal(flat.cells.get('default_vm.flags-mmap.mbind')!.reason, 'needs a multi-node NUMA system', 'the reason from the skip: line');
  t.same(flat.cells.get('guest_memfd_guest')!.diagnostics, nested.cells.get('guest_memfd_guest')!.diagnostics, 'diagnostics after the result are its own');
  const d = one('flat-directives.ktap');
  t.same([...d.cells.values()].map((c) => c.status), ['pass', 'xfail', 'fail', 'skip', 'xpass', 'error', 'timeout']);
  t.equal(d.cells.get('default_vm.flags-mmap.mmap_cow')!.reason, 'passed, but the --xfail file expects a failure: stale entry');
  t.equal(d.variant, 'matrix upstream');
  const boot = one('flat-boot-failed.ktap');
  t.equal(boot.source, 'boot');
  t.equal(boot.kernel, '7.3.0-rc1');
  t.equal(boot.problem!.status, 'error');
  t.equal(boot.problem!.message, 'kernel-panic: Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)');
  t.equal(boot.variant, '--format ktap-flat', 'the guest\'s arguments are the variant');
});

t.test('directories: every result file at any depth, in name order; labels from file names', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gmemtest-report-'));
  for (const [sub, name] of [['job-a', 'gmemtest.json'], ['job-b', 'gmemtest.json'], ['', 'sid.ktap']] as const) {
    mkdirSync(join(dir, sub), { recursive: true });
    writeFileSync(join(dir, sub, name), readFileSync(fx(name === 'sid.ktap' ? 'boot-sid.ktap' : sub === 'job-a' ? 'host.json' : 'guest-sid.json')));
  }
  writeFileSync(join(dir, 'notes.txt'), 'not a result');
  const runs = loadRuns([dir]);
  t.same(runs.map((r) => r.file.slice(dir.length + 1)), ['job-a/gmemtest.json', 'job-b/gmemtest.json', 'sid.ktap']);
  t.equal(runs[2]!.label, 'sid');
  t.match(runs[0]!.label, /job-a\/gmemtest\.json$/, 'same names: the path tells them apart');
  t.same(loadRuns([{ path: fx('host.ktap'), label: 'mine', variant: 'kvm.ko sw-protected', environment: 'QEMU tcg (the lab)' }]).map((r) => [r.label, r.variant, r.environment]),
    [['mine', 'kvm.ko sw-protected', 'QEMU tcg (the lab)']], 'what a caller (the lab) says of a run');
});

t.test('what is not a gmemtest result: one line naming the file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gmemtest-report-bad-'));
  const write = (name: string, text: string): string => { writeFileSync(join(dir, name), text); return join(dir, name); };
  const cases: [string, RegExp][] = [
    [join(dir, 'nope.json'), /nope\.json: no such file or directory/],
    [write('empty.json', ''), /empty file/],
    [write('text.txt', 'hello\n'), /not a gmemtest result \(neither a --format json document nor KTAP\)/],
    [write('broken.json', '{"tool": '), /not valid JSON/],
    [write('other.json', '{"name": "x"}'), /JSON, but not gmemtest results/],
    [write('v2.json', '{"tool":"gmemtest","format":"gmemtest-results/2","results":[]}'), /results format gmemtest-results\/2; this gmemtest reads gmemtest-results\/1/],
    [write('kcidb.json', '{"version":{"major":5,"minor":3},"tests":[]}'), /a KCIDB document/],
    [write('caps.json', '{"kernelRelease":"6.18","vmTypes":[]}'), /gmemtest caps --json/],
    [write('bad-status.json', '{"tool":"gmemtest","format":"gmemtest-results/1","results":[{"id":"a","status":"great"}]}'), /results\[0\] has no id or no valid status/],
    [write('kunit.ktap', 'KTAP version 1\n1..1\nok 1 example\n'), /KTAP, but not from gmemtest/],
    [mkdtempSync(join(tmpdir(), 'gmemtest-report-empty-')), /no result files/],
  ];
  for (const [path, msg] of cases) {
    try {
      loadRuns([path]);
      t.fail(`${path}: accepted`);
    } catch (e) {
      t.ok(e instanceof ReportInputError, `${path}: a ReportInputError`);
      t.match((e as Error).message, msg, path);
      t.notOk((e as Error).message.includes('\n'), 'one line');
    }
  }
  t.throws(() => loadRuns([fx('host.json'), fx('host.json')]), /given twice/);
  const copy = write('copy.json', readFileSync(fx('host.json'), 'utf8'));
  t.throws(() => loadRuns([fx('host.json'), copy]), /the same run as .*host\.json \(identical content\)/);
});

t.test('a KTAP cut short: the run is kept, with its problem', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gmemtest-report-cut-'));
  const text = readFileSync(fx('boot-sid.ktap'), 'utf8').split('\n').slice(0, 30).join('\n');
  writeFileSync(join(dir, 'cut.ktap'), text);
  const r = loadRuns([join(dir, 'cut.ktap')])[0]!;
  t.equal(r.problem!.status, 'error');
  t.match(r.problem!.message, /^incomplete KTAP: /);
});
