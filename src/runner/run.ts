/**
 * Walks the plan depth first, runs each case, and tells a Reporter as it goes, so the
 * output streams. A case that throws is reported and the walk goes on.
 */
import {
  CaseTimeout, CheckFailure, count, emptyTotals, groupStatus, SkipCase, type Outcome, type Status, type Totals,
} from './outcome.js';
import type { PlanNode } from './plan.js';
import { added, kvmResources, leakDiagnostics, type KvmResources } from './leaks.js';
import { xfailReason, type XfailRule } from './xfail.js';

export interface Reporter {
  /** Before anything: the top-level plan count. */
  begin(count: number): void;
  /** A group starts: its subtests follow. */
  enterGroup(node: PlanNode, depth: number, count: number): void;
  /** A test (case or group) ended; `index` is its 1-based number among its siblings. */
  result(node: PlanNode, depth: number, index: number, outcome: Outcome): void;
  /** The run ended, or was cut short with a bail-out reason. */
  end(totals: Totals, bailOut?: string): void;
}

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

export async function runPlan(nodes: readonly PlanNode[], reporter: Reporter, opts: RunOptions = {}): Promise<RunSummary> {
  const totals = emptyTotals();
  const rules = opts.xfail ?? [];
  let bailedOut: string | null = null;

  // What each case that started early (prepare) opened then: its own until its turn ends.
  const early = new Map<PlanNode, KvmResources>();

  const runCase = async (n: PlanNode): Promise<Outcome> => {
    const t0 = performance.now();
    let res: ReturnType<typeof errorDiagnostics> = { raw: 'pass', diagnostics: [] };
    const mine = early.get(n);
    early.delete(n);
    const before = opts.checkLeaks ? kvmResources() : null;
    try {
      await n.run!();
    } catch (e) {
      res = errorDiagnostics(e);
    }
    if (before) {
      const after = kvmResources();
      // New since this case began, less what other early cases still hold; plus, for an
      // early case, what it opened when it started and still holds now.
      const left = [...added(before, after, early.values()), ...(mine ? [...mine].filter((k) => after.has(k)) : [])];
      const leaks = leakDiagnostics(left);
      if (leaks.length > 0 && res.raw !== 'skip') {
        res = { raw: res.raw === 'pass' ? 'fail' : res.raw, reason: res.reason, diagnostics: [...res.diagnostics, ...leaks] };
      }
    }
    const expected = xfailReason(rules, n.id);
    const status = applyXfail(res.raw, expected);
    const reason = status === 'xfail' || status === 'xpass' ? expected! : res.reason;
    return { status, raw: res.raw, diagnostics: res.diagnostics, durationMs: performance.now() - t0,
      ...(reason !== undefined ? { reason } : {}) };
  };

  const visit = async (n: PlanNode, depth: number, index: number): Promise<Status> => {
    let outcome: Outcome;
    if (n.skip !== undefined) {
      outcome = { status: 'skip', raw: 'skip', reason: n.skip, diagnostics: [], durationMs: 0 };
      if (!n.children) count(totals, 'skip');
    } else if (n.children) {
      const t0 = performance.now();
      reporter.enterGroup(n, depth, n.children.length);
      const statuses: Status[] = [];
      try {
        for (const [i, c] of n.children.entries()) {
          if (bailedOut !== null) break;
          statuses.push(await visit(c, depth + 1, i + 1));
        }
      } finally {
        n.teardown?.();
      }
      if (bailedOut !== null) return 'fail';
      const status = groupStatus(statuses);
      outcome = { status, raw: status === 'skip' ? 'skip' : status === 'fail' ? 'fail' : 'pass',
        diagnostics: [], durationMs: performance.now() - t0,
        ...(status === 'skip' ? { reason: 'all subtests skipped' } : {}) };
    } else {
      outcome = await runCase(n);
      const stop = opts.stopRequested?.() ?? null;
      if (stop !== null && outcome.raw !== 'pass' && outcome.raw !== 'skip') {
        // Its children were killed by the stop: not the kernel's doing.
        outcome = { ...outcome, status: 'error', raw: 'error', reason: `interrupted (${stop})` };
      }
      count(totals, outcome.status);
    }
    // Let the event loop turn (signals, child exits) between tests: cases are mostly
    // synchronous FFI calls and would otherwise keep it from running until the end.
    await new Promise<void>((resolve) => setImmediate(resolve));
    const stop = opts.stopRequested?.() ?? null;
    if (stop !== null && n.run) {
      bailedOut = stop;
    }
    reporter.result(n, depth, index, outcome);
    return outcome.status;
  };

  const prepare = (list: readonly PlanNode[]): void => {
    for (const n of list) {
      if (n.skip !== undefined) continue;
      if (n.prepare) {
        const before = opts.checkLeaks ? kvmResources() : null;
        n.prepare();
        if (before) early.set(n, new Set(added(before, kvmResources())));
      }
      if (n.children) prepare(n.children);
    }
  };
  prepare(nodes);
  reporter.begin(nodes.length);
  for (const [i, n] of nodes.entries()) {
    if (bailedOut !== null) break;
    await visit(n, 0, i + 1);
  }
  reporter.end(totals, bailedOut ?? undefined);
  return { totals, bailedOut };
}
