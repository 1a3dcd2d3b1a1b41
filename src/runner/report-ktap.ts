/**
 * KTAP v1, streamed as the run goes, in two forms:
 * - nested (the default): VM type -> flag set -> case, each group a subtest with its own
 *   plan; a result's diagnostics before its line (where KUnit's parser attaches them);
 * - flat (`--format ktap-flat`): one top-level result per case, named by its full id, the
 *   diagnostics after the line (where the kselftest-output parsers of Linaro's
 *   test-definitions attach them), a SKIP bare with its reason on a `# skip:` line (those
 *   parsers put a SKIP's reason into the test's name).
 *
 * Both: XPASS (a case that passed against an --xfail entry) is `not ok` without a
 * directive, since KTAP has none for it; the reason is a `# xpass:` line. A run cut
 * short reports the cases it did not reach as `not ok ... # ERROR not run: interrupted`,
 * so every plan holds, and says so before the Totals. No `Bail out!`: KTAP does not define
 * it and the parsers CI uses count it as one more failure, or stop reading at it.
 */
import { diagLines, planLine, resultLine, subtestLine, versionLine, type Directive } from '../ktap/writer.js';
import { totalsLine } from '../ktap/totals.js';
import { NOT_RUN, type Outcome, type Totals } from './outcome.js';
import { countLeaves, type PlanNode } from './plan.js';
import type { Reporter, Write } from './reporter.js';

interface KtapResult {
  ok: boolean;
  directive?: Directive;
  detail?: string;
  /** Lines that say what the status does not (the xpass reason). */
  notes: string[];
}

function ktapResult(o: Outcome): KtapResult {
  switch (o.status) {
    case 'pass': return { ok: true, notes: [] };
    case 'skip': return { ok: true, directive: 'SKIP', detail: o.reason, notes: [] };
    case 'xfail': return { ok: true, directive: 'XFAIL', detail: o.reason, notes: [] };
    case 'xpass': return { ok: false, notes: [`xpass: passed, but the --xfail file expects a failure: ${o.reason ?? ''}`.trimEnd()] };
    case 'timeout': return { ok: false, directive: 'TIMEOUT', detail: o.reason, notes: [] };
    case 'error': return { ok: false, directive: 'ERROR', detail: o.reason, notes: [] };
    case 'fail': return { ok: false, notes: [] };
  }
}

/** The `# ` line before the Totals of a run cut short. */
export const interruptedLine = (why: string, notRun: number): string =>
  `${why}: ${notRun} case(s) reported ERROR ${NOT_RUN}`;

abstract class KtapBase implements Reporter {
  #notRun = 0;

  constructor(protected readonly write: Write, protected readonly header: readonly string[]) {}

  abstract begin(plan: readonly PlanNode[]): void;
  abstract enterGroup(node: PlanNode, depth: number, count: number): void;
  protected abstract line(node: PlanNode, depth: number, index: number, o: Outcome): string[];

  protected start(count: number): void {
    const lines = [versionLine(0), ...this.header.flatMap((h) => diagLines(0, h)), planLine(0, count)];
    this.write(`${lines.join('\n')}\n`);
  }

  result(node: PlanNode, depth: number, index: number, o: Outcome): void {
    if (!node.children && o.reason === NOT_RUN) this.#notRun++;
    const lines = this.line(node, depth, index, o);
    if (lines.length > 0) this.write(`${lines.join('\n')}\n`);
  }

  end(totals: Totals, interrupted?: string): void {
    const lines = interrupted !== undefined ? diagLines(0, interruptedLine(interrupted, this.#notRun)) : [];
    lines.push(totalsLine(totals));
    this.write(`${lines.join('\n')}\n`);
  }
}

export class KtapReporter extends KtapBase {
  constructor(write: Write, header: readonly string[] = []) {
    super(write, header);
  }

  begin(plan: readonly PlanNode[]): void {
    this.start(plan.length);
  }

  enterGroup(node: PlanNode, depth: number, count: number): void {
    const d = depth + 1;
    this.write(`${versionLine(d)}\n${subtestLine(d, node.name)}\n${planLine(d, count)}\n`);
  }

  protected line(node: PlanNode, depth: number, index: number, o: Outcome): string[] {
    const r = ktapResult(o);
    return [
      ...[...r.notes, ...o.diagnostics].flatMap((d) => diagLines(depth, d)),
      resultLine(depth, r.ok, index, node.name, r.directive, r.detail),
    ];
  }
}

export class FlatKtapReporter extends KtapBase {
  #n = 0;

  constructor(write: Write, header: readonly string[] = []) {
    super(write, header);
  }

  begin(plan: readonly PlanNode[]): void {
    this.start(countLeaves(plan));
  }

  enterGroup(): void {}

  protected line(node: PlanNode, _depth: number, _index: number, o: Outcome): string[] {
    if (node.children) return [];
    const r = ktapResult(o);
    const skip = r.directive === 'SKIP';
    const notes = skip && r.detail ? [`skip: ${r.detail}`, ...r.notes] : r.notes;
    return [
      resultLine(0, r.ok, ++this.#n, node.id, r.directive, skip ? undefined : r.detail),
      ...[...notes, ...o.diagnostics].flatMap((d) => diagLines(0, d)),
    ];
  }
}
