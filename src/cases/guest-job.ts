/**
 * How guest_memfd_guest runs: its body in a child process (cases/guest-child.ts, started
 * through isolate/run-in-child.ts) with a timeout, so a guest that never exits is
 * reported `# TIMEOUT` and the run goes on. The body's checks run in the child; their
 * outcome comes back as data and is thrown here again.
 */
import { runInChild } from '../isolate/run-in-child.js';
import { CaseTimeout, CheckFailure, SkipCase } from '../runner/outcome.js';
import { asCheck } from './check.js';

/** Changes to upstream's case, for the project's own tests only. */
export interface GuestHooks {
  /** Give slot 1 an mmap of the guest_memfd as userspace_addr (upstream: 0). */
  slot1Mmap?: boolean;
  /** After the host's 0xaa fill, store `value` at `offset`. */
  corrupt?: { offset: number; value: number };
  /** Run these bytes instead of guest_code (e.g. a guest that never exits). */
  program?: number[];
}

/** What the child is asked to do. */
export interface GuestJob {
  device: string;
  pageSize: number;
  hooks?: GuestHooks;
}

/** What comes back: plain data, whatever happened. */
export type GuestResult =
  | { status: 'pass' }
  | { status: 'fail'; check: string; details: string[] }
  | { status: 'skip'; reason: string }
  | { status: 'error'; name: string; message: string; stack: string };

/** Runs `body` and turns every outcome into data (the child's handler). */
export function resultOf(body: () => void): GuestResult {
  try {
    body();
    return { status: 'pass' };
  } catch (thrown) {
    const e = asCheck(thrown);
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
