/**
 * The matrix of `gmemtest report`: runs (one kernel on one machine, each from one input
 * file) as columns, case ids as rows, a cell per case and run.
 */
import type { Totals } from '../ktap/totals.js';
import { isBad, type Status } from '../runner/outcome.js';
import type { JsonRunLike } from '../runner/kcidb.js';

export type RawStatus = 'pass' | 'fail' | 'error' | 'timeout' | 'skip';

export interface Cell {
  /** As reported (after --xfail). */
  readonly status: Status;
  /** What the case itself gave. */
  readonly raw: RawStatus;
  /** Skip / xfail reason, the error's message. */
  readonly reason: string | null;
  readonly diagnostics: readonly string[];
  readonly durationMs: number | null;
}

export type RunSource = 'json' | 'ktap' | 'boot';

/** Something that happened to the run as a whole: a failed boot, a bail-out, nothing could run. */
export interface RunProblem {
  readonly status: Status;
  readonly message: string;
  readonly diagnostics: readonly string[];
}

export interface Run {
  /** The input file, as it was named. */
  readonly file: string;
  /** The column's name (the file's name without extension, unless given). */
  label: string;
  readonly source: RunSource;
  /** The gmemtest version that wrote the results. */
  readonly version: string | null;
  /** The kernel release tested. */
  readonly kernel: string | null;
  readonly arch: string;
  /** What set this run apart beyond the kernel: replaced kvm modules, guest arguments, the flag-set matrix. */
  readonly variant: string | null;
  /** Where it ran, in words (host, or QEMU and its machine). */
  readonly environment: string;
  /** Host facts and KVM capabilities as label/value pairs, in display order. */
  readonly capabilities: readonly (readonly [string, string])[];
  /** The same, structured (the probe's own object for JSON input). */
  readonly capabilitiesRecord: Readonly<Record<string, unknown>>;
  readonly problem: RunProblem | null;
  /** Case id -> cell, in the run's order. */
  readonly cells: ReadonlyMap<string, Cell>;
  /** The document's own totals (Totals line or JSON `totals`), when it had them. */
  readonly totals: Totals | null;
  /** The input's text (its digest keys the run's KCIDB ids). */
  readonly text: string;
  /** The parsed document, for JSON input. */
  readonly json?: JsonRunLike;
}

export interface Row {
  readonly id: string;
  /** One per run, null where the run has no such case. */
  readonly cells: readonly (Cell | null)[];
  /** Not every run gives the same status (a missing case counts as a status of its own). */
  readonly differs: boolean;
  /** Some run failed it (fail, error, timeout, xpass). */
  readonly failing: boolean;
}

export type CountKey = Status | 'missing';
export const COUNT_KEYS: readonly CountKey[] = ['pass', 'fail', 'error', 'timeout', 'xpass', 'xfail', 'skip', 'missing'];
export type Counts = Record<CountKey, number>;

export interface Matrix {
  readonly runs: readonly Run[];
  readonly rows: readonly Row[];
  /** Per run, the cells of each status, and the rows it lacks as `missing`. */
  readonly counts: readonly Counts[];
}

/**
 * The union of the runs' case ids in an order that keeps every run's own order: an id
 * new to the list goes right after the id its run gave before it, or, when its run gave
 * none before it that is placed, right before the next one that is.
 */
export function mergeOrder(lists: readonly (readonly string[])[]): string[] {
  const order: string[] = [];
  const seen = new Set<string>();
  for (const ids of lists) {
    let at: number | null = null; // after the last id of this run already placed
    ids.forEach((id, n) => {
      if (seen.has(id)) {
        at = order.indexOf(id) + 1;
        return;
      }
      if (at === null) {
        const next = ids.slice(n + 1).find((x) => seen.has(x));
        at = next === undefined ? order.length : order.indexOf(next);
      }
      order.splice(at, 0, id);
      seen.add(id);
      at++;
    });
  }
  return order;
}

const sameStatus = (a: Cell | null, b: Cell | null): boolean => (a?.status ?? null) === (b?.status ?? null);

/**
 * A run that ran no case at all (a boot that failed, a host without KVM) is left out of
 * `differs`: its problem is the run's, in its header, and it would make every row differ.
 */
export function buildMatrix(runs: readonly Run[]): Matrix {
  const ids = mergeOrder(runs.map((r) => [...r.cells.keys()]));
  const compared = runs.map((r) => r.cells.size > 0);
  const rows = ids.map((id): Row => {
    const cells = runs.map((r) => r.cells.get(id) ?? null);
    const mine = cells.filter((_, i) => compared[i]);
    return {
      id, cells,
      differs: mine.some((c) => !sameStatus(c, mine[0] ?? null)),
      failing: cells.some((c) => c !== null && isBad(c.status)),
    };
  });
  const counts = runs.map((_, i) => {
    const c = Object.fromEntries(COUNT_KEYS.map((k) => [k, 0])) as Counts;
    for (const row of rows) c[row.cells[i]?.status ?? 'missing']++;
    return c;
  });
  return { runs, rows, counts };
}

export interface RowFilter {
  /** Hide rows where every run gives the same status. */
  onlyDifferences?: boolean;
  /** Hide rows no run failed. */
  onlyFailures?: boolean;
}

export const rowShown = (row: Row, f: RowFilter): boolean => (!f.onlyDifferences || row.differs) && (!f.onlyFailures || row.failing);

/** The group of a case id (`default_vm.flags-mmap` of `default_vm.flags-mmap.mbind`), '' at the top. */
export const groupOf = (id: string): string => (id.includes('.') ? id.slice(0, id.lastIndexOf('.')) : '');

export const STATUS_WORD: Readonly<Record<CountKey, string>> = {
  pass: 'PASS', fail: 'FAIL', error: 'ERROR', timeout: 'TIMEOUT', xpass: 'XPASS', xfail: 'XFAIL', skip: 'SKIP', missing: '-',
};

/** A one-line account of a run: kernel, arch, variant. */
export function runTitle(r: Run): string {
  return [`kernel ${r.kernel ?? 'unknown'}`, r.arch, ...(r.variant ? [r.variant] : [])].join(', ');
}

export function summaryLine(m: Matrix): string {
  const differ = m.rows.filter((r) => r.differs).length;
  const failing = m.rows.filter((r) => r.failing).length;
  const problems = m.runs.filter((r) => r.problem !== null).length;
  const parts = [`${m.runs.length} run${m.runs.length === 1 ? '' : 's'}`, `${m.rows.length} case${m.rows.length === 1 ? '' : 's'}`];
  if (m.runs.length > 1) parts.push(`${differ} differ${differ === 1 ? 's' : ''} between runs`);
  parts.push(`${failing} failing`);
  if (problems > 0) parts.push(`${problems} run${problems === 1 ? '' : 's'} with a problem`);
  return parts.join(', ');
}
