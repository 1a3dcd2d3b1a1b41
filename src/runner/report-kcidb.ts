/**
 * `--format kcidb`: the run as one KCIDB I/O document (see kcidb.ts). It is the
 * `--format json` document of the same run, converted, so `gmemtest report --kcidb`
 * on that JSON gives the same objects and ids (only `start_time` is the live run's own).
 */
import { release } from 'node:os';
import { JsonReporter } from './report-json.js';
import { kcidbDocument, kcidbRunFromJson, kernelArch } from './kcidb.js';
import type { Outcome, Totals } from './outcome.js';
import type { PlanNode } from './plan.js';
import type { Reporter, Write } from './reporter.js';

export class KcidbReporter implements Reporter {
  readonly #json: JsonReporter;
  #jsonText = '';
  #start = '';

  constructor(private readonly write: Write, version: string, host: unknown, private readonly origin: string) {
    this.#json = new JsonReporter((t) => { this.#jsonText += t; }, version, host);
  }

  begin(): void {
    this.#start = new Date().toISOString();
    this.#json.begin();
  }

  enterGroup(): void {}

  result(node: PlanNode, depth: number, index: number, o: Outcome): void {
    this.#json.result(node, depth, index, o);
  }

  end(totals: Totals, bailOut?: string): void {
    this.#json.end(totals, bailOut);
    // A run that could not probe the device has no host: the release is this machine's.
    const run = kcidbRunFromJson(this.#json.report, this.#jsonText, { arch: kernelArch(), startTime: this.#start, kernelRelease: release() });
    this.write(`${JSON.stringify(kcidbDocument([run], this.origin), null, 2)}\n`);
  }
}
