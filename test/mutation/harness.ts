// Runs one case of the real plan, on the real /dev/kvm, with a perturbation installed at
// the libc seam, and says whether the case noticed: `not ok` with a `check:` diagnostic.
import { probeCaps, type Caps } from '../../src/kvm/caps.js';
import { Kvm } from '../../src/kvm/kvm.js';
import { setInterceptor, type Interceptor } from '../../src/kvm/libc.js';
import type { Outcome } from '../../src/runner/outcome.js';
import { filterPlan, type PlanNode } from '../../src/runner/plan.js';
import type { Reporter } from '../../src/runner/reporter.js';
import { runPlan } from '../../src/runner/run.js';
import { asserting } from '../../src/cases/check.js';
import { guest_memfd_guest } from '../../src/cases/guest_memfd_guest.js';
import { CheckFailure, SkipCase } from '../../src/runner/outcome.js';
import { buildPlan } from '../../src/cases/matrix.js';
import type { Perturbation } from './catalogue.js';
import { numaModel } from './numa-model.js';

export interface Row {
  readonly case: string;
  readonly id: string;
  readonly what: string;
  readonly killed: boolean;
  /** The check that failed, or what happened instead. */
  readonly by: string;
}

function compose(outer: Interceptor | null, inner: Interceptor | null): Interceptor | null {
  if (!outer) return inner;
  if (!inner) return outer;
  return (c, real) => outer(c, () => inner(c, real));
}

export const GUEST_ID = 'guest_memfd_guest';

export class Harness implements Disposable {
  readonly kvm: Kvm;
  readonly caps: Caps;
  #slotMmap: boolean | undefined;

  constructor(device = '/dev/kvm') {
    this.kvm = Kvm.open(device);
    this.caps = probeCaps(this.kvm);
  }

  /** Runs test `id` with `interceptor` (and the two-node model when `numa`); its outcome. */
  async run(id: string, interceptor: Interceptor | null, numa = false): Promise<Outcome> {
    const caps = numa ? { ...this.caps, numaNodes: Math.max(2, this.caps.numaNodes) } : this.caps;
    const plan = filterPlan(buildPlan(this.kvm, caps, { mode: 'all', vmTypes: [0] }), [id]);
    if (plan.length === 0) throw new Error(`no test ${id} on this host`);
    let outcome: Outcome | undefined;
    const reporter: Reporter = {
      begin() {}, enterGroup() {}, end() {},
      result(n: PlanNode, _d: number, _i: number, o: Outcome) { if (n.id === id) outcome = o; },
    };
    const useModel = numa && this.caps.numaNodes < 2;
    setInterceptor(compose(interceptor, useModel ? numaModel(this.caps.pageSize) : null));
    try {
      await runPlan(plan, reporter);
    } finally {
      setInterceptor(null);
    }
    if (!outcome) throw new Error(`test ${id} did not report`);
    return outcome;
  }

  /**
   * guest_memfd_guest is not in a --vm-type plan: it runs here, as the case function. On a
   * host that does not serve a guest_memfd-only memslot (the baseline then ends in
   * KVM_EXIT_MMIO), slot 1 is given an mmap of the guest_memfd, which such hosts serve:
   * the rest of the case is unchanged.
   */
  async guestSlotMmap(): Promise<boolean> {
    this.#slotMmap ??= (await this.#guestOutcome(false, null)).raw !== 'pass';
    return this.#slotMmap;
  }

  async #guestOutcome(slot1Mmap: boolean, interceptor: Interceptor | null): Promise<Outcome> {
    setInterceptor(interceptor);
    const base = { durationMs: 0 };
    try {
      await asserting(() => guest_memfd_guest(this.kvm, this.caps, { slot1Mmap }));
      return { ...base, status: 'pass', raw: 'pass', diagnostics: [] };
    } catch (e) {
      if (e instanceof CheckFailure) return { ...base, status: 'fail', raw: 'fail', diagnostics: [...e.diagnostics] };
      if (e instanceof SkipCase) return { ...base, status: 'skip', raw: 'skip', reason: e.message, diagnostics: [] };
      const err = e instanceof Error ? e : new Error(String(e));
      return { ...base, status: 'error', raw: 'error', reason: `${err.name}: ${err.message}`, diagnostics: [] };
    } finally {
      setInterceptor(null);
    }
  }

  async runGuest(interceptor: Interceptor | null): Promise<Outcome> {
    return this.#guestOutcome(await this.guestSlotMmap(), interceptor);
  }

  /** The unperturbed outcome of a test the catalogue perturbs. */
  async baseline(id: string, numa = false): Promise<Outcome> {
    return id === GUEST_ID ? this.runGuest(null) : this.run(id, null, numa);
  }

  async row(pt: Perturbation): Promise<Row> {
    const o = pt.id === GUEST_ID ? await this.runGuest(pt.make()) : await this.run(pt.id, pt.make(), pt.numa ?? false);
    const check = o.diagnostics.find((d) => d.startsWith('check: '));
    const killed = o.raw === 'fail' && check !== undefined;
    const by = check ? check.slice('check: '.length) : `${o.raw}${o.reason ? `: ${o.reason}` : ''}`;
    return { case: pt.case, id: pt.id, what: pt.what, killed, by };
  }

  [Symbol.dispose](): void {
    this.kvm.close();
  }
}

export function table(rows: readonly Row[], baseline: ReadonlyMap<string, Outcome>): string {
  const lines: string[] = [];
  const w = Math.max(...rows.map((r) => r.case.length), 4);
  const ww = Math.max(...rows.map((r) => r.what.length), 12);
  lines.push(`${'case'.padEnd(w)}  ${'perturbation'.padEnd(ww)}  killed  by check`);
  for (const r of rows) lines.push(`${r.case.padEnd(w)}  ${r.what.padEnd(ww)}  ${(r.killed ? 'yes' : 'NO').padEnd(6)}  ${r.by}`);
  const cases = [...new Set(rows.map((r) => r.case))];
  const killedCases = cases.filter((c) => rows.some((r) => r.case === c && r.killed));
  const killed = rows.filter((r) => r.killed).length;
  lines.push('');
  for (const [id, o] of baseline) if (o.raw !== 'pass') lines.push(`baseline NOT passing: ${id}: ${o.raw} ${o.diagnostics.join(' / ')}`);
  lines.push(`mutation: ${cases.length} cases, ${rows.length} perturbations, ${killed} killed, ` +
    `${rows.length - killed} survived; cases with a killing perturbation: ${killedCases.length}/${cases.length}`);
  return lines.join('\n');
}
