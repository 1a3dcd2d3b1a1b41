// The x86 guest builder and guest_memfd_guest on a real /dev/kvm. The builder is
// proven on memory this host serves (slot 1 with userspace_addr = an mmap of the
// guest_memfd), so these pass whether or not the host has the NULL-address quirk;
// the CLI test accepts either verdict of the upstream case. Skips without /dev/kvm.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { hostInfo } from '../../src/kvm/host.js';
import { Kvm } from '../../src/kvm/kvm.js';
import { KVM_EXIT_HLT, KVM_EXIT_IO } from '../../src/kvm/uapi/kvm.js';
import { KVM_X86_DEFAULT_VM } from '../../src/kvm/arch/x86_64/uapi.js';
import { Asm } from '../../src/asm/x86_64.js';
import { getRegs, getSregs } from '../../src/kvm/arch/x86_64/vcpu-regs.js';
import { X86Guest } from '../../src/guest/x86_64/guest.js';
import { KtapReporter } from '../../src/runner/report-ktap.js';
import { leaf } from '../../src/runner/plan.js';
import { liveAccessHelpers } from '../../src/isolate/access-helper.js';
import { runPlan } from '../../src/runner/run.js';
import { CaseTimeout, CheckFailure } from '../../src/runner/outcome.js';
import { guest_memfd_guest } from '../../src/cases/guest_memfd_guest.js';
import { spinProgram } from '../helpers/guest-programs.js';
import { ThreadTimer, threadTimer } from '../../src/kvm/thread-timer.js';
import { EINTR } from '../../src/kvm/errno.js';
import { KICK_REPEAT_MS } from '../../src/kvm/vcpu.js';

const top = fileURLToPath(new URL('../..', import.meta.url));

function kvmSkip(): string | false {
  const r = Kvm.tryOpen();
  if (!r.ok) return `/dev/kvm cannot be opened (${r.errnoName}): no KVM on this machine`;
  r.value.close();
  return false;
}
const skip = kvmSkip();
if (skip) console.log(`# skipping the KVM tests: ${skip}`);
const env = hostInfo();

t.test('builder: a long-mode guest exits HLT and IO, registers as set', { skip }, async (t) => {
  using kvm = Kvm.open();
  using vm = kvm.createVm(KVM_X86_DEFAULT_VM);
  const prog = new Asm().movR32Imm32('edx', 0x80).movR32Imm32('eax', 0x42).outDxAl().hlt().assemble();
  using g = X86Guest.create(vm, prog);
  const s = getSregs(g.vcpu);
  t.equal(s.cs.l, 1, 'cs is a 64-bit code segment');
  t.equal(s.efer & 0x500n, 0x500n, 'EFER.LME|LMA');
  g.setArgs(0x1234, 0x5678);
  const r = getRegs(g.vcpu);
  t.equal(r.rdi, 0x1234n, 'arg 0 in rdi');
  t.equal(r.rsi, 0x5678n, 'arg 1 in rsi');
  t.equal(r.rflags & 2n, 2n, 'rflags bit 1');
  const first = g.run(10_000);
  t.equal(first.kind, 'exit', 'an out to port 0x80 is not a ucall');
  if (first.kind === 'exit') {
    t.equal(first.exit.reason, KVM_EXIT_IO);
    t.equal(first.exit.name, 'KVM_EXIT_IO');
    t.match(first.exit, { direction: 'out', port: 0x80, size: 1, count: 1 });
  }
  const second = g.run(10_000);
  t.equal(second.kind === 'exit' ? second.exit.reason : -1, KVM_EXIT_HLT, 'then KVM_EXIT_HLT');
});

t.test('(a) guest reads 0xaa and writes 0xff through a served slot: DONE', { skip }, async (t) => {
  using kvm = Kvm.open();
  const t0 = performance.now();
  guest_memfd_guest(kvm, env, { slot1Mmap: true });
  t.pass(`DONE ucall, host sees 0xff (${Math.round(performance.now() - t0)} ms)`);
});

t.test('(b) a wrong byte gives the ASSERT ucall with its offset and value', { skip }, async (t) => {
  using kvm = Kvm.open();
  for (const [offset, value] of [[123, 0x5a], [env.pageSize - 1, 0x00]] as const) {
    let e: unknown = null;
    try { guest_memfd_guest(kvm, env, { slot1Mmap: true, corrupt: { offset, value } }); } catch (x) { e = x; }
    t.type(e, CheckFailure, `offset ${offset}: a check failure`);
    t.match((e as CheckFailure).diagnostics.join('\n'),
      `guest ASSERT: expected 0xaa at offset ${offset}, got 0x${value.toString(16)}`);
  }
});

t.test('(c) a guest that never exits is kicked out of KVM_RUN at its time limit', { skip }, async (t) => {
  using kvm = Kvm.open();
  const timeoutMs = 1000;
  const t0 = performance.now();
  let e: unknown = null;
  try { guest_memfd_guest(kvm, env, { timeoutMs, program: spinProgram(), slot1Mmap: true }); } catch (x) { e = x; }
  const ms = performance.now() - t0;
  t.type(e, CaseTimeout);
  t.match((e as Error).message, `the guest did not exit within ${timeoutMs} ms`);
  const kicked = Number(/after (\d+) ms/.exec((e as CaseTimeout).diagnostics.join(' '))?.[1]);
  // The upper bound is loose: timers fire late on a busy two-core machine.
  t.ok(kicked >= timeoutMs - 1 && kicked < timeoutMs + 5000, `kicked out at the limit (${kicked} ms after KVM_RUN)`);
  t.ok(ms < timeoutMs + 5000, `returned (${Math.round(ms)} ms)`);
  t.equal(liveAccessHelpers(), 0, 'no helper left behind');

  // In a run: reported `not ok ... # TIMEOUT`, and the next case still runs.
  let out = '';
  let after = false;
  const plan = [
    leaf('', 'spin', () => guest_memfd_guest(kvm, env, { timeoutMs: 500, program: spinProgram() })),
    leaf('', 'after', () => { after = true; }),
  ];
  const { totals } = await runPlan(plan, new KtapReporter((s) => { out += s; }));
  t.match(out, /^not ok 1 spin # TIMEOUT the guest did not exit within 500 ms$/m);
  t.match(out, /^ok 2 after$/m);
  t.ok(after, 'the run went on');
  t.equal(totals.fail, 1, 'a timeout counts as a failure');
});

t.test('(c2) a kick that lands while the thread is outside KVM_RUN is followed by one inside', { skip, timeout: 30_000 }, async (t) => {
  // runFor's timer repeats past the limit, every KICK_REPEAT_MS; here the first expiry
  // is spent in user space (a busy wait), so only a repeat can bring the spinning vCPU
  // back out of KVM_RUN.
  using kvm = Kvm.open();
  using vm = kvm.createVm(KVM_X86_DEFAULT_VM);
  using g = X86Guest.create(vm, spinProgram());
  // Without the repeat only the backstop (a second timer, at 5 s) ends the KVM_RUN.
  const timer = threadTimer();
  using backstop = ThreadTimer.create();
  const t0 = performance.now();
  timer.set(5, KICK_REPEAT_MS);
  backstop.set(5000);
  try {
    while (performance.now() - t0 < 30) { /* the first expiry is handled here */ }
    const r = g.vcpu.tryRun();
    const ms = performance.now() - t0;
    t.equal(r.errno, EINTR, 'KVM_RUN is interrupted');
    t.ok(ms < 4000, `by a repeat of the kick, not the backstop (${Math.round(ms)} ms after the set)`);
  } finally {
    timer.disarm();
  }
});

const built = existsSync(`${top}/dist/cli/main.js`);
const cliSkip = skip || (built ? false : 'dist/ not built (npm run build)');

t.test('(d) gmemtest --filter guest_memfd_guest, with and without --xfail', { skip: cliSkip }, async (t) => {
  // As a user runs it: through `env`, so that none of tap's loaders (which it adds to
  // NODE_OPTIONS of whatever this process spawns) reach the CLI.
  const cli = (...args: string[]) => spawnSync('env', ['-u', 'NODE_OPTIONS', `${top}/bin/gmemtest`, ...args],
    { encoding: 'utf8', timeout: 60_000 });
  const plain = cli('--filter', 'guest_memfd_guest');
  t.comment(`gmemtest exit ${plain.status}; stdout:\n${plain.stdout}stderr:\n${plain.stderr}`);
  const passed = plain.status === 0;
  if (passed) {
    t.match(plain.stdout, /^ok 1 guest_memfd_guest$/m, 'passes (a kernel that serves the NULL-address slot)');
  } else {
    t.equal(plain.status, 1, 'exit 1');
    t.match(plain.stdout, /^not ok 1 guest_memfd_guest$/m);
    t.match(plain.stdout, /^# got: KVM_EXIT_[A-Z_0-9]+ at gpa 0x[0-9a-f]+/m, 'the diagnostic names the exit and the GPA');
  }
  const xf = cli('--filter', 'guest_memfd_guest', '--xfail', `${top}/fixtures/xfail-kvm-pvm.txt`);
  if (passed) {
    t.equal(xf.status, 1, 'an unexpected pass fails the run');
    t.match(xf.stdout, /^# xpass: passed, but the --xfail file expects a failure: kvm_pvm .*\nnot ok 1 guest_memfd_guest$/m);
  } else {
    t.equal(xf.status, 0, 'exit 0');
    t.match(xf.stdout, /^ok 1 guest_memfd_guest # XFAIL kvm_pvm /m);
    t.match(xf.stdout, /^# Totals: pass:0 fail:0 xfail:1 xpass:0 skip:0 error:0$/m);
  }
});
