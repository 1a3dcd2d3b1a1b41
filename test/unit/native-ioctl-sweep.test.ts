// The batched ioctl routine: its code (GNU as agrees with the listing below, objdump
// reads the shared object), and on the real /dev/kvm the same results as one ffi-rs
// call per ioctl, through both loaders; the stop logic with a perturbed fd, syscall
// number and a size that succeeds.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { IoctlSweeper } from '../../src/isolate/ioctl-sweep.js';
import { libc } from '../../src/kvm/libc.js';
import { Kvm } from '../../src/kvm/kvm.js';
import { KVM_CHECK_EXTENSION, KVM_CREATE_GUEST_MEMFD, KVM_MEM_GUEST_MEMFD } from '../../src/kvm/uapi/kvm.js';
import type { MemoryRegion2 } from '../../src/kvm/structs.js';
import { ioctlSweepProgram, ioctlSweepSharedObject, SWEEP_BLOCK, SWEEP_SYMBOL } from '../../src/native/ioctl-sweep.js';
import { kvmUnavailable } from '../helpers/kvm.js';
import { createGuestMemfdPerCall } from '../helpers/ioctl-per-call.js';

const isX64 = process.platform === 'linux' && process.arch === 'x64';
const noKvm = isX64 ? kvmUnavailable() ?? false : 'the sweep is x86_64 code';
const PAGE = 4096;
const EINVAL = 22;
const LOADERS = ['dlopen', 'bsearch'] as const;

function gas(src: string): string | null {
  const dir = mkdtempSync(join(tmpdir(), 'gmemtest-sweep-'));
  try {
    writeFileSync(join(dir, 'a.s'), `.code64\n.text\n${src}\n`);
    const as = spawnSync('as', ['--64', '-o', join(dir, 'a.o'), join(dir, 'a.s')], { encoding: 'utf8' });
    if (as.error) return null;
    if (as.status !== 0) throw new Error(as.stderr);
    spawnSync('objcopy', ['-O', 'binary', '-j', '.text', join(dir, 'a.o'), join(dir, 'a.bin')]);
    return readFileSync(join(dir, 'a.bin')).toString('hex');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

t.test('x86_64 routine: the same bytes as GNU as for the loop it documents', { skip: isX64 ? false : 'x86_64' }, async (t) => {
  const B = SWEEP_BLOCK;
  const want = gas(`
    movq %rdi, %r8
    movq ${B.first}(%r8), %r9
    movq ${B.out}(%r8), %r10
    leaq ${B.arg}(%r8), %rdx
next:
    movq ${B.last}(%r8), %rcx
    cmpq %rcx, %r9
    {disp32} ja done
    movq ${B.field}(%r8), %rcx
    movq %r9, (%rcx)
    movq ${B.fd}(%r8), %rdi
    movq ${B.request}(%r8), %rsi
    movq ${B.nr}(%r8), %rax
    syscall
    movq %rax, (%r10)
    addq $8, %r10
    addq $1, %r9
    movq ${B.expect}(%r8), %rcx
    cmpq %rcx, %rax
    {disp32} je next
done:
    movq %r9, %rax
    movq ${B.first}(%r8), %rcx
    subq %rcx, %rax
    movq %rax, ${B.issued}(%r8)
    ret`);
  if (want === null) {
    t.comment('GNU as not installed: bytes not compared');
    return;
  }
  t.equal(Buffer.from(ioctlSweepProgram().code).toString('hex'), want);
});

t.test('shared object: exports the routine', { skip: isX64 ? false : 'x86_64' }, async (t) => {
  const p = ioctlSweepProgram();
  const so = ioctlSweepSharedObject(p);
  t.same(so.symbols.map((s) => [s.name, s.value - so.codeVaddr, s.size]), [[SWEEP_SYMBOL, p.entry, p.code.length - p.entry]]);
  t.ok(so.bytes.length < 2048, `${so.bytes.length} bytes`);
});


t.test('real /dev/kvm: the same results as one ffi-rs call per ioctl', { skip: noKvm }, async (t) => {
  using kvm = Kvm.open();
  using vm = kvm.createVm(0);
  const valid = vm.checkExtension(244);
  const flagSets = [0, 1, 2, 3].filter((f) => (f & ~valid) === 0);
  for (const how of LOADERS) {
    using s = IoctlSweeper.open(how);
    t.equal(s.code.how, how);
    for (const flags of flagSets) {
      const o = s.createGuestMemfdSizes(vm.fd, flags, 1, PAGE - 1, EINVAL);
      t.equal(o.issued, PAGE - 1, `${how}, flags ${flags}: every size issued`);
      t.ok(o.results.every((r) => r === -EINVAL), `${how}, flags ${flags}: each one EINVAL`);
      t.same(o.results, createGuestMemfdPerCall(vm.fd, flags, 1, PAGE - 1), `${how}, flags ${flags}: as the per-call path`);
    }
  }
});

t.test('real /dev/kvm: the loop stops after the first unexpected result', { skip: noKvm }, async (t) => {
  using kvm = Kvm.open();
  using vm = kvm.createVm(0);
  for (const how of LOADERS) {
    using s = IoctlSweeper.open(how);
    // A size that is accepted: sizes PAGE-3 .. PAGE+3, the page size succeeds and ends it.
    const o = s.createGuestMemfdSizes(vm.fd, 0, PAGE - 3, PAGE + 3, EINVAL);
    t.equal(o.issued, 4, `${how}: stopped at the page-sized one`);
    t.same(o.results.slice(0, 3), [-EINVAL, -EINVAL, -EINVAL]);
    const fd = o.results[3]!;
    t.ok(fd >= 0, `${how}: the call that succeeded returned an fd (${fd})`);
    t.same(createGuestMemfdPerCall(vm.fd, 0, PAGE - 3, PAGE - 1), o.results.slice(0, 3), 'the per-call path agrees up to there');
    t.ok(createGuestMemfdPerCall(vm.fd, 0, PAGE, PAGE)[0]! >= 0, 'and succeeds at the page size too');
    libc.close(fd);
    // Another fd: the first call already fails with something else.
    const bad = s.run({ fd: -1, request: KVM_CREATE_GUEST_MEMFD, first: 1, last: 100, expect: -EINVAL });
    t.same(bad, { issued: 1, results: [-9] }, `${how}: EBADF on the first call stops it`);
    // Another system call: getpid (39) ignores its arguments and returns our pid.
    const other = s.run({ fd: vm.fd, request: KVM_CREATE_GUEST_MEMFD, first: 1, last: 100, expect: -EINVAL, nr: 39 });
    t.same(other, { issued: 1, results: [process.pid] }, `${how}: a different syscall number is what runs`);
    // expect matching a different request: KVM_CHECK_EXTENSION on the VM fd with arg = &block (a huge cap number) returns 0.
    const ext = s.run({ fd: vm.fd, request: KVM_CHECK_EXTENSION, first: 1, last: 5, expect: 0 });
    t.same(ext, { issued: 5, results: [0, 0, 0, 0, 0] }, `${how}: runs to the end while the result is the expected one`);
    const none = s.run({ fd: vm.fd, request: KVM_CREATE_GUEST_MEMFD, first: 5, last: 4, expect: -EINVAL });
    t.same(none, { issued: 0, results: [] }, `${how}: an empty range issues nothing`);
  }
});

t.test('argument checks', { skip: isX64 ? false : 'x86_64' }, async (t) => {
  using s = IoctlSweeper.open('bsearch');
  t.throws(() => s.run({ fd: 0, request: 0, first: 0, last: 2 ** 21, expect: 0 }), RangeError);
  t.throws(() => s.run({ fd: 0, request: 0, first: -1, last: 2, expect: 0 }), RangeError);
  t.throws(() => s.run({ fd: 0, request: 0, first: 0, last: 1, expect: 0, arg: new Uint8Array(SWEEP_BLOCK.argSize + 1) }), RangeError);
  for (const field of [-8, 4, SWEEP_BLOCK.argSize - 4, SWEEP_BLOCK.argSize, 1.5]) {
    t.throws(() => s.run({ fd: 0, request: 0, first: 0, last: 1, expect: 0, field }), RangeError, `field ${field} refused`);
  }
});

function regionAt(gmemFd: number, offset: number): MemoryRegion2 {
  return { slot: 10, flags: KVM_MEM_GUEST_MEMFD, guestPhysAddr: 0xc000_0000, memorySize: 0x20_0000, userspaceAddr: 0, guestMemfd: gmemFd, guestMemfdOffset: offset };
}

t.test('real /dev/kvm: a field other than the first, KVM_SET_USER_MEMORY_REGION2\'s guest_memfd_offset', { skip: noKvm }, async (t) => {
  using kvm = Kvm.open();
  for (const how of LOADERS) {
    using s = IoctlSweeper.open(how);
    using vm = kvm.createVm(0);
    // One page more than the slot: offset 0x1000 is the first that binds.
    using gmem = vm.createGuestMemfd(0x20_0000 + PAGE, 0);
    const o = s.setMemoryRegion2Offsets(vm.fd, regionAt(gmem.fd, 0), 1, PAGE, EINVAL);
    t.equal(o.issued, PAGE, `${how}: every unaligned offset issued, then the aligned one`);
    t.ok(o.results.slice(0, PAGE - 1).every((r) => r === -EINVAL), `${how}: offsets 1..0xfff each EINVAL`);
    t.equal(o.results[PAGE - 1], 0, `${how}: offset 0x1000 binds (so each value reached guest_memfd_offset)`);
    const perCallResults: number[] = [];
    using vm2 = kvm.createVm(0);
    using gmem2 = vm2.createGuestMemfd(0x20_0000 + PAGE, 0);
    for (let off = 1; off <= PAGE; off++) {
      const r = vm2.trySetUserMemoryRegion2(regionAt(gmem2.fd, off));
      perCallResults.push(r.ret < 0 ? -r.errno : r.ret);
      if (r.ret !== -1 || r.errno !== EINVAL) break;
    }
    t.same(o.results, perCallResults, `${how}: as one ffi-rs call per ioctl`);
  }
});
