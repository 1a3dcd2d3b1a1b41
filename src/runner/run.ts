/**
 * Walks the plan depth first, runs each case, and tells a Reporter as it goes, so the
 * output streams. A case that throws is reported and the walk goes on.
 *
 * A run that is asked to stop (SIGINT/SIGTERM, its caller gone) finishes the current case
 * and then reports every case it did not reach as `error` ("not run: interrupted"), so
 * that every plan the output announced is kept. abortNow() does the same at once,
 * without waiting for the current case (a second signal).
 */
import {
  CaseTimeout, CheckFailure, count, emptyTotals, groupStatus, NOT_RUN, SkipCase, type Outcome, type Status,
  type Totals,
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
  /** Why the run stopped early (the cases from there on were reported not run). */
  bailedOut: string | null;
}

function errorDiagnostics(e: unknown): { raw: Outcome['raw']; reason?: string; diagnostics: string[] } {
  if (e instanceof SkipCase) return { raw: 'skip', reason: e.message, diagnostics: [...e.details] };
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

const skipOutcome = (n: PlanNode): Outcome =>
  ({ status: 'skip', raw: 'skip', reason: n.skip!, diagnostics: n.skipDetails ?? [], durationMs: 0 });

const notRunOutcome = (diagnostics: string[] = []): Outcome =>
  ({ status: 'error', raw: 'error', reason: NOT_RUN, diagnostics, durationMs: 0 });

/** A group's outcome from its children's statuses: failed, skipped (all), or passed. */
function groupOutcome(statuses: readonly Status[], durationMs: number): Outcome {
  const status = groupStatus(statuses);
  return { status, raw: status, diagnostics: [], durationMs } as Outcome;
}

/** Where the walk is: the children of each open group, and the one being visited. */
interface Frame {
  readonly group: PlanNode | null;
  readonly children: readonly PlanNode[];
  readonly depth: number;
  index: number;
  readonly statuses: Status[];
}

/** One walk of a plan: its totals, and whether it was cut short. */
class PlanRun {
  readonly totals = emptyTotals();
  bailedOut: string | null = null;
  /** Set once abortNow() has closed the output: nothing more is reported. */
  #aborted = false;
  /** The run reached its end and reported it. */
  #ended = false;
  readonly #frames: Frame[] = [];
  /** The case running now. */
  #current: PlanNode | null = null;
  /** A test that has its outcome but is not reported yet (the event loop is turning). */
  #pending: { n: PlanNode; depth: number; index: number; outcome: Outcome } | null = null;
  /** The first case reported not run carries the line saying why. */
  #notRunSaid = false;
  /**
   * The KVM resources after the last case, which are the next case's "before": nothing
   * between two cases makes or closes one (reporting, the event loop's turn), except a
   * group's teardown, which forgets this. One scan per case instead of two (each scan
   * reads /proc/self/fd, every fd's link and /proc/self/maps: ~5 ms in a TCG guest).
   */
  #lastScan: KvmResources | null = null;

  constructor(private readonly reporter: Reporter, private readonly opts: RunOptions) {}

  #stopReason(): string | null {
    return this.opts.stopRequested?.() ?? null;
  }

  /** A case that leaves a KVM resource behind (one that is new since it began) fails. */
  #withLeaks(res: CaseResult, before: KvmResources): CaseResult {
    const after = kvmResources();
    this.#lastScan = after;
    const leaks = leakDiagnostics(added(before, after));
    if (leaks.length === 0 || res.raw === 'skip') return res;
    return { raw: res.raw === 'pass' ? 'fail' : res.raw, reason: res.reason, diagnostics: [...res.diagnostics, ...leaks] };
  }

  async #runCase(n: PlanNode): Promise<Outcome> {
    const t0 = performance.now();
    let res: CaseResult = { raw: 'pass', diagnostics: [] };
    const before = this.opts.checkLeaks ? this.#lastScan ?? kvmResources() : null;
    try {
      await n.run!();
    } catch (e) {
      res = errorDiagnostics(e);
    }
    if (before) res = this.#withLeaks(res, before);
    const expected = xfailReason(this.opts.xfail ?? [], n.caseId ?? n.id);
    const status = applyXfail(res.raw, expected);
    const reason = status === 'xfail' || status === 'xpass' ? expected! : res.reason;
    return { status, raw: res.raw, diagnostics: res.diagnostics, durationMs: performance.now() - t0,
      ...(reason !== undefined ? { reason } : {}) };
  }

  async #leaf(n: PlanNode): Promise<Outcome> {
    this.#current = n;
    let outcome = await this.#runCase(n);
    this.#current = null;
    const stop = this.#stopReason();
    if (stop !== null && outcome.raw !== 'pass' && outcome.raw !== 'skip') {
      // Its children were killed by the stop: not the kernel's doing.
      outcome = { ...outcome, status: 'error', raw: 'error', reason: `interrupted (${stop})` };
    }
    return outcome;
  }

  #notRun(): Outcome {
    if (this.#notRunSaid) return notRunOutcome();
    this.#notRunSaid = true;
    return notRunOutcome([`${this.bailedOut ?? 'interrupted'}: the cases from here on did not start`]);
  }

  /** Reports `n` and all under it as not run (skips stay skips); returns its status. */
  #reportNotRun(n: PlanNode, depth: number, index: number): Status {
    let o: Outcome;
    if (n.skip !== undefined) {
      o = skipOutcome(n);
      if (!n.children) count(this.totals, 'skip');
    } else if (n.children) {
      this.reporter.enterGroup(n, depth, n.children.length);
      o = groupOutcome(n.children.map((c, i) => this.#reportNotRun(c, depth + 1, i + 1)), 0);
    } else {
      o = this.#notRun();
      count(this.totals, 'error');
    }
    this.reporter.result(n, depth, index, o);
    return o.status;
  }

  async #runGroup(n: PlanNode, depth: number): Promise<Outcome> {
    const t0 = performance.now();
    this.reporter.enterGroup(n, depth, n.children!.length);
    const statuses = await this.#walk(n, n.children!, depth + 1);
    return groupOutcome(statuses, performance.now() - t0);
  }

  /** Visits `children` in order; once a stop is requested, the rest are reported not run. */
  async #walk(group: PlanNode | null, children: readonly PlanNode[], depth: number): Promise<Status[]> {
    const frame: Frame = { group, children, depth, index: 0, statuses: [] };
    this.#frames.push(frame);
    try {
      // Once abortNow() has closed the output, nothing more is reported: the walk only unwinds.
      for (; frame.index < children.length && !this.#aborted; frame.index++) {
        const c = children[frame.index]!;
        const s = this.bailedOut !== null ? this.#reportNotRun(c, depth, frame.index + 1) : await this.visit(c, depth, frame.index + 1);
        frame.statuses.push(s);
      }
    } finally {
      this.#frames.pop();
      if (group?.teardown) {
        this.#lastScan = null;
        group.teardown();
      }
    }
    return frame.statuses;
  }

  async visit(n: PlanNode, depth: number, index: number): Promise<Status> {
    let outcome: Outcome;
    if (n.skip !== undefined) {
      outcome = skipOutcome(n);
    } else if (n.children) {
      outcome = await this.#runGroup(n, depth);
    } else {
      outcome = await this.#leaf(n);
    }
    if (this.#aborted) return outcome.status;
    if (!n.children) count(this.totals, outcome.status);
    // Let the event loop turn (signals, child exits) between tests: cases are mostly
    // synchronous FFI calls and would otherwise keep it from running until the end.
    this.#pending = { n, depth, index, outcome };
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.#pending = null;
    if (this.#aborted) return outcome.status;
    const stop = this.#stopReason();
    if (stop !== null) this.bailedOut ??= stop;
    this.reporter.result(n, depth, index, outcome);
    return outcome.status;
  }

  async all(nodes: readonly PlanNode[]): Promise<void> {
    this.reporter.begin(nodes);
    await this.#walk(null, nodes, 0);
    if (this.#aborted) return;
    this.reporter.end(this.totals, this.bailedOut ?? undefined);
    this.#ended = true;
  }

  /**
   * Closes the output now: the case running is reported `error` (`why`), everything not
   * yet reported as not run, every open group with its result, then the end. Synchronous:
   * the caller may exit right after.
   */
  abortNow(reason: string, why: string): void {
    if (this.#aborted || this.#ended) return;
    this.bailedOut ??= reason;
    for (let f = this.#frames.length - 1; f >= 0; f--) {
      const frame = this.#frames[f]!;
      const innermost = f === this.#frames.length - 1;
      let from = frame.index;
      const p = this.#pending;
      if (innermost && p !== null && frame.children[frame.index] === p.n) {
        // Ran, not reported yet.
        frame.statuses.push(p.outcome.status);
        this.reporter.result(p.n, p.depth, p.index, p.outcome);
        from = frame.index + 1;
      } else if (innermost && this.#current !== null && frame.children[frame.index] === this.#current) {
        // The case cut short.
        count(this.totals, 'error');
        frame.statuses.push('error');
        this.reporter.result(this.#current, frame.depth, frame.index + 1,
          { status: 'error', raw: 'error', reason: 'interrupted', diagnostics: [why], durationMs: 0 });
        from = frame.index + 1;
      } else if (!innermost) {
        from = frame.index + 1; // children[index] is the open group just closed below
      }
      for (let i = from; i < frame.children.length; i++) {
        frame.statuses.push(this.#reportNotRun(frame.children[i]!, frame.depth, i + 1));
      }
      if (frame.group !== null && f > 0) {
        const parent = this.#frames[f - 1]!;
        const o = groupOutcome(frame.statuses, 0);
        parent.statuses.push(o.status);
        this.reporter.result(frame.group, parent.depth, parent.index + 1, o);
      }
    }
    this.#aborted = true;
    this.reporter.end(this.totals, this.bailedOut);
  }
}

/** A run in progress: its result, and abortNow() for a second signal. */
export interface PlanRunHandle {
  readonly done: Promise<RunSummary>;
  abortNow(reason: string, why: string): void;
}

export function startPlan(nodes: readonly PlanNode[], reporter: Reporter, opts: RunOptions = {}): PlanRunHandle {
  const run = new PlanRun(reporter, opts);
  const done = run.all(nodes).then(() => ({ totals: run.totals, bailedOut: run.bailedOut }));
  return { done, abortNow: (reason, why) => run.abortNow(reason, why) };
}

export function runPlan(nodes: readonly PlanNode[], reporter: Reporter, opts: RunOptions = {}): Promise<RunSummary> {
  return startPlan(nodes, reporter, opts).done;
}
