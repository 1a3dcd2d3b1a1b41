/** Streams KTAP v1 to a writable as the run goes. */
import {
  bailOutLine, diagLines, planLine, resultLine, subtestLine, versionLine, type Directive,
} from '../ktap/writer.js';
import { totalsLine } from '../ktap/totals.js';
import type { Outcome, Totals } from './outcome.js';
import type { PlanNode } from './plan.js';
import type { Reporter, Write } from './reporter.js';

function directive(o: Outcome): [boolean, Directive | undefined, string | undefined] {
  switch (o.status) {
    case 'pass': return [true, undefined, undefined];
    case 'skip': return [true, 'SKIP', o.reason];
    case 'xfail': return [true, 'XFAIL', o.reason];
    case 'xpass': return [true, 'XPASS', o.reason];
    case 'timeout': return [false, 'TIMEOUT', o.reason];
    case 'error': return [false, 'ERROR', o.reason];
    case 'fail': return [false, undefined, undefined];
  }
}

export class KtapReporter implements Reporter {
  constructor(private readonly write: Write, private readonly header: readonly string[] = []) {}

  begin(count: number): void {
    const lines = [versionLine(0), ...this.header.flatMap((h) => diagLines(0, h)), planLine(0, count)];
    this.write(`${lines.join('\n')}\n`);
  }

  enterGroup(node: PlanNode, depth: number, count: number): void {
    const d = depth + 1;
    this.write(`${versionLine(d)}\n${subtestLine(d, node.name)}\n${planLine(d, count)}\n`);
  }

  result(node: PlanNode, depth: number, index: number, o: Outcome): void {
    const [ok, dir, detail] = directive(o);
    const lines = o.diagnostics.flatMap((d) => diagLines(depth, d));
    lines.push(resultLine(depth, ok, index, node.name, dir, detail));
    this.write(`${lines.join('\n')}\n`);
  }

  end(totals: Totals, bailOut?: string): void {
    const lines: string[] = [];
    if (bailOut !== undefined) lines.push(bailOutLine(bailOut));
    lines.push(totalsLine(totals));
    this.write(`${lines.join('\n')}\n`);
  }
}
