/** A coloured, human summary (chalk; NO_COLOR and FORCE_COLOR are honoured by the caller). */
import type { ChalkInstance } from 'chalk';
import type { Outcome, Status, Totals } from './outcome.js';
import type { PlanNode } from './plan.js';
import type { Reporter, Write } from './reporter.js';

const MARK: Record<Status, string> = {
  pass: 'PASS', fail: 'FAIL', error: 'ERROR', timeout: 'TIMEOUT', skip: 'SKIP', xfail: 'XFAIL', xpass: 'XPASS',
};

export class PrettyReporter implements Reporter {
  constructor(private readonly write: Write, private readonly c: ChalkInstance, private readonly header: readonly string[]) {}

  private paint(s: Status, text: string): string {
    const c = this.c;
    switch (s) {
      case 'pass': return c.green(text);
      case 'skip': return c.yellow(text);
      case 'xfail': return c.cyan(text);
      default: return c.red.bold(text);
    }
  }

  begin(): void {
    this.write(`${this.header.map((h) => this.c.dim(h)).join('\n')}\n`);
  }

  enterGroup(node: PlanNode, depth: number): void {
    this.write(`${'  '.repeat(depth)}${this.c.bold(node.name)}\n`);
  }

  result(node: PlanNode, depth: number, _index: number, o: Outcome): void {
    if (node.children && o.status !== 'skip') return;
    const pad = '  '.repeat(depth);
    const time = node.children || node.skip !== undefined ? '' : this.c.dim(` ${o.durationMs.toFixed(1)} ms`);
    const why = o.reason ? this.c.dim(` (${o.reason})`) : '';
    const lines = [`${pad}${this.paint(o.status, MARK[o.status].padEnd(7))} ${node.name}${time}${why}`];
    for (const d of o.diagnostics) lines.push(`${pad}        ${this.c.red(d)}`);
    this.write(`${lines.join('\n')}\n`);
  }

  end(t: Totals, bailOut?: string): void {
    const parts = [
      this.c.green(`${t.pass} passed`), this.paint(t.fail ? 'fail' : 'pass', `${t.fail} failed`),
      this.c.yellow(`${t.skip} skipped`), this.c.cyan(`${t.xfail} xfail`),
      this.paint(t.xpass ? 'xpass' : 'pass', `${t.xpass} xpass`), this.paint(t.error ? 'error' : 'pass', `${t.error} errors`),
    ];
    const bail = bailOut ? `${this.c.red.bold(`stopped: ${bailOut}`)}\n` : '';
    this.write(`${bail}\n${parts.join(', ')}\n`);
  }
}
