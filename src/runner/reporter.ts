/** What the run loop tells an output format as it goes (KTAP, JSON and pretty reporters). */
import type { Outcome, Totals } from './outcome.js';
import type { PlanNode } from './plan.js';

/** Where a reporter writes (stdout in real use, a string in tests). */
export type Write = (text: string) => void;

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
