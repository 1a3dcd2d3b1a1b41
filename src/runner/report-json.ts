/** Collects every result and writes one JSON document at the end. */
import type { Outcome, Totals } from './outcome.js';
import type { PlanNode } from './plan.js';
import type { Reporter, Write } from './reporter.js';

/** The `format` field of gmemtest's JSON documents. */
export const RESULTS_FORMAT = 'gmemtest-results/1';

/** The whole document of a run where nothing could run (no device...). */
export function skipAllJson(version: string, reason: string): string {
  return `${JSON.stringify({ tool: 'gmemtest', version, format: RESULTS_FORMAT, skipped: reason, results: [] }, null, 2)}\n`;
}

export interface JsonResult {
  id: string;
  path: string[];
  kind: 'case' | 'group';
  status: Outcome['status'];
  raw_status: Outcome['raw'];
  duration_ms: number;
  reason: string | null;
  diagnostics: readonly string[];
}

export interface JsonReport {
  tool: string;
  version: string;
  format: typeof RESULTS_FORMAT;
  host: unknown;
  results: JsonResult[];
  totals: Totals | null;
  bail_out: string | null;
}

export class JsonReporter implements Reporter {
  readonly report: JsonReport;

  constructor(private readonly write: Write, version: string, host: unknown) {
    this.report = { tool: 'gmemtest', version, format: RESULTS_FORMAT, host, results: [], totals: null, bail_out: null };
  }

  begin(): void {}
  enterGroup(): void {}

  result(node: PlanNode, _depth: number, _index: number, o: Outcome): void {
    this.report.results.push({
      id: node.id,
      path: node.id.split('.'),
      kind: node.children ? 'group' : 'case',
      status: o.status,
      raw_status: o.raw,
      duration_ms: Math.round(o.durationMs * 1000) / 1000,
      reason: o.reason ?? null,
      diagnostics: o.diagnostics,
    });
  }

  end(totals: Totals, bailOut?: string): void {
    this.report.totals = totals;
    this.report.bail_out = bailOut ?? null;
    this.write(`${JSON.stringify(this.report, null, 2)}\n`);
  }
}
