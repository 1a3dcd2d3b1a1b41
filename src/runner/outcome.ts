/** What running a test gave, and how outcomes add up. */
import type { Totals } from '../ktap/totals.js';

export { emptyTotals, type Totals } from '../ktap/totals.js';

export type Status = 'pass' | 'fail' | 'error' | 'timeout' | 'skip' | 'xfail' | 'xpass';

export interface Outcome {
  /** The reported status, after any --xfail expectation is applied. */
  readonly status: Status;
  /** What the test itself gave, before expectations. */
  readonly raw: 'pass' | 'fail' | 'error' | 'timeout' | 'skip';
  /** Skip / xfail reason, or the error's message. */
  readonly reason?: string;
  readonly diagnostics: readonly string[];
  readonly durationMs: number;
}

export function count(t: Totals, s: Status): void {
  if (s === 'timeout') t.fail++;
  else t[s]++;
}

/** A failure for the run's exit code: fail, error, timeout, and an unexpected pass. */
export const isBad = (s: Status): boolean => s === 'fail' || s === 'error' || s === 'timeout' || s === 'xpass';

/** A group's status: failed if a child failed, skipped if all were skipped, else passed. */
export function groupStatus(children: readonly Status[]): Status {
  if (children.some(isBad)) return 'fail';
  if (children.length > 0 && children.every((s) => s === 'skip')) return 'skip';
  return 'pass';
}

/** A failed check of a case: reported `not ok` with its diagnostics (check, expected, got). */
export class CheckFailure extends Error {
  readonly diagnostics: readonly string[];

  constructor(check: string, details: readonly string[]) {
    super(check);
    this.name = 'CheckFailure';
    this.diagnostics = [`check: ${check}`, ...details];
  }
}

/** Thrown by a case that cannot run on this host; reported as SKIP with the reason. */
export class SkipCase extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'SkipCase';
  }
}

/** The case did not finish in time (its child was killed); reported `not ok ... # TIMEOUT`. */
export class CaseTimeout extends Error {
  readonly diagnostics: readonly string[];

  constructor(reason: string, diagnostics: readonly string[] = []) {
    super(reason);
    this.name = 'CaseTimeout';
    this.diagnostics = diagnostics;
  }
}
