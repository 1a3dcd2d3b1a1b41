/**
 * Walks the plan depth first, runs each case, and tells a Reporter as it goes, so the
 * output streams. A case that throws is reported and the walk goes on.
 */
import {
  CaseTimeout, CheckFailure, count, emptyTotals, groupStatus, SkipCase, type Outcome, type Status, type Totals,
} from './outcome.js';
import type { PlanNode } from './plan.js';
import type { Reporter } from './reporter.js';
import { added, kvmResources, leakDiagnostics, type KvmResources } from './leaks.js';
import { xfailReason, type XfailRule } from './xfail.js';

export interface RunOptions {
  xfail?: readonly XfailRule[];
  /** Checked between tests: when it returns a reason, the run stops there. */
  stopRequested?: () => string | null;
  /** Count guest_memfd/vCPU fds and KVM mappings around each case; a case that leaves one fails. */
  checkLeaks?: boolean;
}

export interface RunSummary {
  totals: Totals;
  bailedOut: string | null;
}

function errorDiagnostics(e: unknown): { raw: Outcome['raw']; reason?: string; diagnostics: string[] } {
  if (e instanceof SkipCase) return { raw: 'skip', reason: e.message, diagnostics: [] };
  if (e instanceof CheckFailure) return { raw: 'fail', diagnostics: [...e.diagnostics] };
  if (e instanceof CaseTimeout) return { raw: 'timeout', reason: e.message, diagnostics: [...e.diagnostics] };
  const err = e instanceof Error ? e : new Error(String(e));
  const where = err.stack?.split('\n').slice(1, 4).map((l) => `at: ${l.trim().replace(/^at /, '')}`) ?? [];
  return { raw: 'error', reason: `${err.name}: ${err.message}`, diagnostics: [`error: ${err.name}: ${err.message}`, ...where] };
}

function applyXfail(raw: Outcome['raw'], expected: string | null): Status {
  if (expected === null || raw === 'skip') return raw;
  return raw === 'pass' ? 'xpass' : 'xfail';
}

type CaseResult = ReturnType<typeof errorDiagnostics>;

/** One walk of a plan: its totals, whether it was cut short, and what early cases hold. */
class PlanRun {
  readonly totals = emptyTotals();
  bailedOut: string | null = null;
  /** What each case that started early (prepare) opened then: its own until its turn ends. */
  readonly #early = new Map<PlanNode, KvmResources>();

  constructor(private readonly reporter: Reporter, private readonly opts: RunOptions) {}

  #stopReason(): string | null {
    return this.opts.stopRequested?.() ?? null;
  }

  /** Starts the work of every case that has a prepare(), recording what it opened. */
  prepare(list: readonly PlanNode[]): void {
    for (const n of list) {
      if (n.skip !== undefined) continue;
      if (n.prepare) {
        const before = this.opts.checkLeaks ? kvmResources() : null;
        n.prepare();
        if (before) this.#early.set(n, new Set(added(before, kvmResources())));
      }
      if (n.children) this.prepare(n.children);
    }
  }

  /**
   * A case that leaves a KVM resource behind fails: what is new since it began, less what
   * other early cases still hold; plus, for an early case, what it opened when it started
   * and still holds now.
   */
  #withLeaks(res: CaseResult, before: KvmResources, mine: KvmResources | undefined): CaseResult {
    const after = kvmResources();
    const left = [...added(before, after, this.#early.values()), ...(mine ? [...mine].filter((k) => after.has(k)) : [])];
    const leaks = leakDiagnostics(left);
    if (leaks.length === 0 || res.raw === 'skip') return res;
    return { raw: res.raw === 'pass' ? 'fail' : res.raw, reason: res.reason, diagnostics: [...res.diagnostics, ...leaks] };
  }

  async #runCase(n: PlanNode): Promise<Outcome> {
    const t0 = performance.now();
    let res: CaseResult = { raw: 'pass', diagnostics: [] };
    const mine = this.#early.get(n);
    this.#early.delete(n);
    const before = this.opts.checkLeaks ? kvmResources() : null;
    try {
      await n.run!();
    } catch (e) {
      res = errorDiagnostics(e);
    }
    if (before) res = this.#withLeaks(res, before, mine);
    const expected = xfailReason(this.opts.xfail ?? [], n.id);
    const status = applyXfail(res.raw, expected);
    const reason = status === 'xfail' || status === 'xpass' ? expected! : res.reason;
    return { status, raw: res.raw, diagnostics: res.diagnostics, durationMs: performance.now() - t0,
      ...(reason !== undefined ? { reason } : {}) };
  }

  /** A group's children in order; null when the run stopped inside it. */
  async #runGroup(n: PlanNode, depth: number): Promise<Outcome | null> {
    const t0 = performance.now();
    this.reporter.enterGroup(n, depth, n.children!.length);
    const statuses: Status[] = [];
    try {
      for (const [i, c] of n.children!.entries()) {
        if (this.bailedOut !== null) break;
        statuses.push(await this.visit(c, depth + 1, i + 1));
      }
    } finally {
      n.teardown?.();
    }
    if (this.bailedOut !== null) return null;
    const status = groupStatus(statuses);
    return { status, raw: status === 'skip' ? 'skip' : status === 'fail' ? 'fail' : 'pass',
      diagnostics: [], durationMs: performance.now() - t0,
      ...(status === 'skip' ? { reason: 'all subtests skipped' } : {}) };
  }

  async #leaf(n: PlanNode): Promise<Outcome> {
    let outcome = await this.#runCase(n);
    const stop = this.#stopReason();
    if (stop !== null && outcome.raw !== 'pass' && outcome.raw !== 'skip') {
      // Its children were killed by the stop: not the kernel's doing.
      outcome = { ...outcome, status: 'error', raw: 'error', reason: `interrupted (${stop})` };
    }
    count(this.totals, outcome.status);
    return outcome;
  }

  async visit(n: PlanNode, depth: number, index: number): Promise<Status> {
    let outcome: Outcome;
    if (n.skip !== undefined) {
      outcome = { status: 'skip', raw: 'skip', reason: n.skip, diagnostics: [], durationMs: 0 };
      if (!n.children) count(this.totals, 'skip');
    } else if (n.children) {
      const o = await this.#runGroup(n, depth);
      if (o === null) return 'fail';
      outcome = o;
    } else {
      outcome = await this.#leaf(n);
    }
    // Let the event loop turn (signals, child exits) between tests: cases are mostly
    // synchronous FFI calls and would otherwise keep it from running until the end.
    await new Promise<void>((resolve) => setImmediate(resolve));
    const stop = this.#stopReason();
    if (stop !== null && n.run) this.bailedOut = stop;
    this.reporter.result(n, depth, index, outcome);
    return outcome.status;
  }
}

export async function runPlan(nodes: readonly PlanNode[], reporter: Reporter, opts: RunOptions = {}): Promise<RunSummary> {
  const run = new PlanRun(reporter, opts);
  run.prepare(nodes);
  reporter.begin(nodes.length);
  for (const [i, n] of nodes.entries()) {
    if (run.bailedOut !== null) break;
    await run.visit(n, 0, i + 1);
  }
  reporter.end(run.totals, run.bailedOut ?? undefined);
  return { totals: run.totals, bailedOut: run.bailedOut };
}
