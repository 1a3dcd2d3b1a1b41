/**
 * Port of guest_memfd_test.c's test_guest_memfd_guest: a guest reads, through its own
 * page tables, a guest_memfd page bound at GPA 4 GiB (slot 1, userspace_addr 0), checks
 * it holds the host's 0xaa, overwrites it with 0xff, and the host sees the 0xff.
 *
 * The vCPU part runs in a child process (guest-child.ts) with a timeout, so a guest
 * that never exits is reported `# TIMEOUT` and the run goes on. The case's checks run
 * in the child; their failures come back as data and are thrown here again.
 */
import { Kvm } from '../kvm/kvm.js';
import {
  GUEST_MEMFD_FLAG_INIT_SHARED, GUEST_MEMFD_FLAG_MMAP, KVM_CAP_GUEST_MEMFD_FLAGS, KVM_MEM_GUEST_MEMFD,
  KVM_X86_DEFAULT_VM,
} from '../kvm/uapi.js';
import { describeExit } from '../kvm/x86/exits.js';
import { X86Guest } from '../kvm/x86/guest.js';
import { memCheckProgram, spinProgram } from '../kvm/x86/guest-code.js';
import { SZ_4G } from '../kvm/x86/layout.js';
import type { Mapping } from '../kvm/mapping.js';
import { announcePhase } from '../isolate/serve-job.js';
import { runInChild } from '../isolate/run-in-child.js';
import { expect, expectOk, skip } from './check.js';
import { CaseTimeout, CheckFailure, SkipCase } from '../runner/outcome.js';
import type { CaseEnv } from './env.js';
import { hex } from '../kvm/hex.js';


/** What the child is asked to do. Only the defaults are upstream's case. */
export interface GuestJob {
  device: string;
  pageSize: number;
  /**
   * userspace_addr of slot 1: 'null' (0, as upstream), or 'gmem-mmap' (an mmap of the
   * guest_memfd, kept while the guest runs: the project's own tests use it).
   */
  slot1: 'null' | 'gmem-mmap';
  /** After filling with 0xaa, the host stores `value` at `offset` (project tests). */
  corrupt?: { offset: number; value: number };
  /** 'memcheck' is upstream's guest_code; 'spin' never exits (project tests). */
  program: 'memcheck' | 'spin';
}

/** What comes back: plain data, whatever happened. */
export type GuestResult =
  | { status: 'pass' }
  | { status: 'fail'; check: string; details: string[] }
  | { status: 'skip'; reason: string }
  | { status: 'error'; name: string; message: string; stack: string };

const GPA = SZ_4G;
const SLOT = 1;
const EXPECTED = 0xaa;
const WRITTEN = 0xff;

/** The case body, as it runs in the child. Throws CheckFailure on a failed check. */
export function guestMemfdGuestBody(job: GuestJob): void {
  using kvm = Kvm.open(job.device);
  using vm = kvm.createVm(KVM_X86_DEFAULT_VM);
  using guest = X86Guest.create(vm, job.program === 'spin' ? spinProgram() : memCheckProgram());

  const valid = vm.checkExtension(KVM_CAP_GUEST_MEMFD_FLAGS);
  expect((valid & GUEST_MEMFD_FLAG_MMAP) !== 0, 'the default VM supports guest_memfd MMAP', () =>
    [`KVM_CAP_GUEST_MEMFD_FLAGS (vm): ${hex(valid)}`]);
  expect((valid & GUEST_MEMFD_FLAG_INIT_SHARED) !== 0, 'the default VM supports guest_memfd INIT_SHARED', () =>
    [`KVM_CAP_GUEST_MEMFD_FLAGS (vm): ${hex(valid)}`]);

  const size = job.pageSize;
  using gmem = vm.createGuestMemfd(size, GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED);
  using slotMap: Mapping | null = job.slot1 === 'gmem-mmap' ? gmem.mmap(size) : null;
  expectOk(vm.trySetUserMemoryRegion2({
    slot: SLOT, flags: KVM_MEM_GUEST_MEMFD, guestPhysAddr: GPA, memorySize: size,
    userspaceAddr: slotMap?.addr ?? 0, guestMemfd: gmem.fd, guestMemfdOffset: 0,
  }), `KVM_SET_USER_MEMORY_REGION2 binds the guest_memfd at gpa ${hex(GPA)} (slot ${SLOT}, KVM_MEM_GUEST_MEMFD)`);

  {
    using m = gmem.mmap(size);
    m.mem.fill(EXPECTED);
    if (job.corrupt) m.mem[job.corrupt.offset] = job.corrupt.value;
  }

  guest.identityMap(GPA);
  guest.setArgs(GPA, size);
  announcePhase('KVM_RUN');
  const stop = guest.run();
  announcePhase('after KVM_RUN');
  if (stop.kind === 'exit') {
    throw new CheckFailure('the guest runs to its DONE ucall', [
      'expected: DONE ucall', `got: ${describeExit(stop.exit)}`,
      `guest memory: slot ${SLOT}, gpa ${hex(GPA)}, size ${hex(size)}, userspace_addr ${hex(slotMap?.addr ?? 0)}`,
    ]);
  }
  const u = stop.ucall;
  if (u.kind === 'ASSERT') {
    throw new CheckFailure(`the guest reads ${hex(EXPECTED)} at every offset`, [
      `guest ASSERT: expected ${hex(EXPECTED)} at offset ${u.arg0}, got ${hex(u.arg1)}`,
    ]);
  }
  if (u.kind !== 'DONE') {
    throw new CheckFailure('the guest runs to its DONE ucall', ['expected: DONE ucall', `got: ucall code ${u.code}`]);
  }

  using m = gmem.mmap(size);
  const mem = m.mem;
  for (let i = 0; i < size; i++) {
    if (mem[i] !== WRITTEN) {
      throw new CheckFailure(`the host reads the guest's ${hex(WRITTEN)} at every offset`, [
        `expected: ${hex(WRITTEN)}`, `got: ${hex(mem[i]!)} at offset ${i}`,
      ]);
    }
  }
}

/** Runs the body and turns every outcome into data (the child's handler). */
export function guestMemfdGuestJob(job: GuestJob): GuestResult {
  try {
    guestMemfdGuestBody(job);
    return { status: 'pass' };
  } catch (e) {
    if (e instanceof CheckFailure) return { status: 'fail', check: e.message, details: e.diagnostics.slice(1) };
    if (e instanceof SkipCase) return { status: 'skip', reason: e.message };
    const err = e instanceof Error ? e : new Error(String(e));
    return { status: 'error', name: err.name, message: err.message, stack: err.stack ?? '' };
  }
}

export const DEFAULT_GUEST_TIMEOUT_MS = 10_000;

class ChildError extends Error {
  constructor(message: string, stack: string) {
    super(message);
    this.name = 'GuestChildError';
    this.stack = stack;
  }
}

const lastLines = (s: string, n: number): string[] => s.trim().split('\n').filter((l) => l !== '').slice(-n);

/** Runs a job in a child and rethrows its failure here; a timeout throws CaseTimeout. */
export async function runGuestJob(job: GuestJob, timeoutMs = DEFAULT_GUEST_TIMEOUT_MS): Promise<void> {
  const o = await runInChild<GuestResult>('vcpu', job, timeoutMs);
  if (o.kind === 'timeout') {
    const where = o.phase ?? 'start-up';
    throw new CaseTimeout(`vCPU child killed after ${Math.round(o.ms)} ms in ${where}`, [
      `timeout: ${timeoutMs} ms`, `phase: ${where}`, ...lastLines(o.stderr, 5).map((l) => `stderr: ${l}`),
    ]);
  }
  if (o.kind === 'crash') {
    const how = o.signal !== null ? `signal ${o.signal}` : `code ${o.code}`;
    const err = lastLines(o.stderr, 3).join(' | ');
    throw new Error(`vCPU child exited (${how}) in ${o.phase ?? 'start-up'} without a result${err ? `: ${err}` : ''}`);
  }
  const r = o.value;
  switch (r.status) {
    case 'pass': return;
    case 'fail': throw new CheckFailure(r.check, r.details);
    case 'skip': throw new SkipCase(r.reason);
    case 'error': throw new ChildError(`${r.name}: ${r.message}`, r.stack);
  }
}

export interface GuestCaseOptions {
  timeoutMs?: number;
  /** Overrides of the upstream job (project tests only). */
  job?: Partial<Omit<GuestJob, 'device' | 'pageSize'>>;
}

/** test_guest_memfd_guest: SKIP without KVM_CAP_GUEST_MEMFD_FLAGS on the system fd. */
export async function guest_memfd_guest(kvm: Kvm, env: CaseEnv, opts: GuestCaseOptions = {}): Promise<void> {
  const sysFlags = kvm.checkExtension(KVM_CAP_GUEST_MEMFD_FLAGS);
  if (sysFlags === 0) skip('KVM_CAP_GUEST_MEMFD_FLAGS is 0: no mmap()able guest_memfd to hand the guest');
  await runGuestJob({
    device: kvm.path, pageSize: env.pageSize, slot1: 'null', program: 'memcheck', ...opts.job,
  }, opts.timeoutMs);
}
