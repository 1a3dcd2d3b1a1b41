/**
 * One KTAP reader (Documentation/dev-tools/ktap.rst) for every place gmemtest reads KTAP
 * back: `gmemtest boot` re-emitting a guest's run, the kernel matrix, the lab. It keeps
 * every line classified (so a document can be re-emitted byte for byte, nested deeper)
 * and builds the tree of results, checking plans and numbering on the way.
 *
 * Nesting is KTAP's: a subtest's lines are indented two spaces more than its parent's
 * and its result line, at the parent's depth, follows them. `# ` lines right before a
 * result line are that result's diagnostics. gmemtest's `# Totals:` line and
 * `Bail out!` lines are recognised wherever they are.
 */
import { emptyTotals, parseTotalsLine, type Totals } from './totals.js';

export type Directive = 'SKIP' | 'TODO' | 'XFAIL' | 'XPASS' | 'TIMEOUT' | 'ERROR';

export type KtapLine =
  | { readonly kind: 'version'; readonly depth: number; readonly raw: string; readonly version: number }
  | { readonly kind: 'subtest'; readonly depth: number; readonly raw: string; readonly name: string }
  | { readonly kind: 'plan'; readonly depth: number; readonly raw: string; readonly count: number; readonly skip: string | null }
  | {
    readonly kind: 'result'; readonly depth: number; readonly raw: string; readonly ok: boolean; readonly number: number;
    readonly name: string; readonly directive: Directive | null; readonly reason: string;
  }
  | { readonly kind: 'bailout'; readonly depth: number; readonly raw: string; readonly reason: string }
  | { readonly kind: 'totals'; readonly depth: number; readonly raw: string; readonly totals: Totals }
  | { readonly kind: 'diagnostic'; readonly depth: number; readonly raw: string; readonly text: string }
  | { readonly kind: 'blank'; readonly depth: number; readonly raw: string }
  /** Not KTAP at all (or an odd indentation). */
  | { readonly kind: 'other'; readonly depth: number; readonly raw: string };

export interface KtapTest {
  readonly name: string;
  readonly ok: boolean;
  readonly number: number;
  readonly directive: Directive | null;
  readonly reason: string;
  /** The `# ` lines right before the result line, without the `# `. */
  readonly diagnostics: readonly string[];
  /** The subtests, when this test had any. */
  readonly children: readonly KtapTest[];
  /** The subtests' plan, when there was one. */
  readonly plan: number | null;
}

export interface KtapDocument {
  readonly lines: readonly KtapLine[];
  /** The top-level tests. */
  readonly tests: readonly KtapTest[];
  /** The top-level plan (null when missing). */
  readonly plan: number | null;
  /** `1..0 # SKIP reason`: the reason (empty when none was given); null otherwise. */
  readonly skipAll: string | null;
  /** The first `Bail out!` line's reason, at any depth. */
  readonly bailOut: string | null;
  /** The last `# Totals:` line. */
  readonly totals: Totals | null;
  /** `# ` lines of the top level before its plan (the run's header). */
  readonly header: readonly string[];
  /** Whether the document starts with a version line. */
  readonly ktap: boolean;
  /** Structural problems: plans that disagree with the results, numbering, stray lines. */
  readonly problems: readonly string[];
}

const DIRECTIVE = /^(SKIP|TODO|XFAIL|XPASS|TIMEOUT|ERROR)\b\s*(.*)$/i;

function directiveOf(text: string | undefined): { directive: Directive | null; reason: string } {
  const m = text === undefined ? null : DIRECTIVE.exec(text.trim());
  return m ? { directive: m[1]!.toUpperCase() as Directive, reason: m[2]!.trim() } : { directive: null, reason: '' };
}

/** Classifies one line. */
export function classifyLine(raw: string): KtapLine {
  const spaces = /^ */.exec(raw)![0].length;
  const text = raw.slice(spaces);
  if (text === '') return { kind: 'blank', depth: 0, raw };
  if (spaces % 2 !== 0) return { kind: 'other', depth: Math.floor(spaces / 2), raw };
  const depth = spaces / 2;
  let m = /^(?:KTAP|TAP) version (\d+)$/.exec(text);
  if (m) return { kind: 'version', depth, raw, version: Number(m[1]) };
  m = /^# Subtest: (.*)$/.exec(text);
  if (m) return { kind: 'subtest', depth, raw, name: m[1]!.trim() };
  m = /^1\.\.(\d+)(?:\s*#\s*(.*))?$/.exec(text);
  if (m) {
    const d = directiveOf(m[2]);
    return { kind: 'plan', depth, raw, count: Number(m[1]), skip: d.directive === 'SKIP' ? d.reason : null };
  }
  m = /^(not ok|ok) (\d+)(?: (?:- )?([^#]*?))?\s*(?:#\s*(.*))?$/.exec(text);
  if (m) {
    return { kind: 'result', depth, raw, ok: m[1] === 'ok', number: Number(m[2]), name: (m[3] ?? '').trim(), ...directiveOf(m[4]) };
  }
  m = /^Bail out!\s*(.*)$/.exec(text);
  if (m) return { kind: 'bailout', depth, raw, reason: m[1]!.trim() };
  const totals = parseTotalsLine(text);
  if (totals) return { kind: 'totals', depth, raw, totals };
  m = /^#(?: (.*))?$/.exec(text);
  if (m) return { kind: 'diagnostic', depth, raw, text: m[1] ?? '' };
  return { kind: 'other', depth, raw };
}

interface Frame {
  readonly depth: number;
  plan: number | null;
  readonly tests: KtapTest[];
  diagnostics: string[];
}

/** Builds the tree as the lines come: a stack of the subtests still open. */
class TreeBuilder {
  readonly problems: string[] = [];
  readonly header: string[] = [];
  readonly root: Frame = { depth: 0, plan: null, tests: [], diagnostics: [] };
  readonly #stack: Frame[] = [this.root];
  skipAll: string | null = null;
  bailOut: string | null = null;
  totals: Totals | null = null;

  #top(): Frame {
    return this.#stack[this.#stack.length - 1]!;
  }

  #checkPlan(f: Frame, where: string): void {
    if (f.plan === null) this.problems.push(`${where}: no plan`);
    else if (f.plan !== f.tests.length) this.problems.push(`${where}: plan 1..${f.plan} but ${f.tests.length} results`);
  }

  line(l: KtapLine, at: string): void {
    switch (l.kind) {
      case 'version': return this.#version(l.depth, at);
      case 'plan': return this.#plan(l, at);
      case 'result': return this.#result(l, at);
      case 'diagnostic': return this.#diagnostic(l);
      case 'bailout':
        this.bailOut ??= l.reason;
        return;
      case 'totals':
        this.totals = l.totals;
        return;
      case 'other':
        this.problems.push(`${at}: not a KTAP line: ${l.raw.slice(0, 80)}`);
        return;
      case 'subtest':
      case 'blank':
    }
  }

  #version(depth: number, at: string): void {
    if (depth !== this.#top().depth + 1) {
      this.problems.push(`${at}: version line at depth ${depth} inside depth ${this.#top().depth}`);
      return;
    }
    this.#stack.push({ depth, plan: null, tests: [], diagnostics: [] });
  }

  #plan(l: Extract<KtapLine, { kind: 'plan' }>, at: string): void {
    const f = this.#top();
    if (l.depth !== f.depth) { this.problems.push(`${at}: plan at depth ${l.depth} inside depth ${f.depth}`); return; }
    if (f.plan !== null) this.problems.push(`${at}: a second plan`);
    f.plan = l.count;
    if (f === this.root && l.count === 0) this.skipAll = l.skip ?? '';
  }

  /** A result closes the subtests deeper than it; the one just below is its own. */
  #result(l: Extract<KtapLine, { kind: 'result' }>, at: string): void {
    let children: Frame | null = null;
    while (this.#top().depth > l.depth) {
      const f = this.#stack.pop()!;
      if (f.depth === l.depth + 1) children = f;
      else this.problems.push(`${at}: subtest at depth ${f.depth} has no result line`);
    }
    const f = this.#top();
    if (f.depth !== l.depth) { this.problems.push(`${at}: result at depth ${l.depth} inside depth ${f.depth}`); return; }
    if (children) this.#checkPlan(children, `subtest '${l.name}'`);
    if (l.number !== f.tests.length + 1) this.problems.push(`${at}: result ${l.number} after ${f.tests.length} results`);
    f.tests.push({
      name: l.name, ok: l.ok, number: l.number, directive: l.directive, reason: l.reason,
      diagnostics: f.diagnostics, children: children?.tests ?? [], plan: children?.plan ?? null,
    });
    f.diagnostics = [];
  }

  /**
   * Diagnostics belong to the next result at their depth: a subtest's own result line
   * comes after its children, so its frame may be below the top one.
   */
  #diagnostic(l: Extract<KtapLine, { kind: 'diagnostic' }>): void {
    const f = this.#stack.find((x) => x.depth === l.depth);
    if (f === undefined) return; // misplaced: kept in `lines` only
    if (f === this.root && this.root.plan === null && this.root.tests.length === 0) this.header.push(l.text);
    else f.diagnostics.push(l.text);
  }

  /** At the end: subtests left open are a problem unless the run bailed out. */
  finish(): void {
    while (this.#stack.length > 1) {
      const f = this.#stack.pop()!;
      if (this.bailOut === null) this.problems.push(`a subtest at depth ${f.depth} has no result line`);
    }
    if (this.bailOut === null) this.#checkPlan(this.root, 'top level');
  }
}

/** Reads a whole KTAP document. Never throws: what does not fit is in `problems`. */
export function readKtap(text: string): KtapDocument {
  const lines = text.replace(/\n$/, '').split('\n').map(classifyLine);
  const b = new TreeBuilder();
  const ktap = lines[0]?.kind === 'version' && lines[0].depth === 0;
  if (!ktap) b.problems.push('the document does not start with a KTAP version line');
  lines.forEach((l, i) => { if (!(ktap && i === 0)) b.line(l, `line ${i + 1}`); });
  b.finish();
  return {
    lines, tests: b.root.tests, plan: b.root.plan, skipAll: b.skipAll, bailOut: b.bailOut, totals: b.totals,
    header: b.header, ktap, problems: b.problems,
  };
}

/** The Totals the listed leaves add up to (TIMEOUT counts as a failure, as gmemtest's Totals do). */
export function totalsOf(tests: readonly KtapTest[]): Totals {
  const t = emptyTotals();
  for (const { test } of walkTests(tests)) {
    if (test.children.length > 0) continue;
    if (test.directive === 'SKIP') t.skip++;
    else if (test.directive === 'XFAIL' && test.ok) t.xfail++;
    else if (test.directive === 'ERROR') t.error++;
    else if (test.ok) t.pass++;
    else t.fail++;
  }
  return t;
}

/** Every test with its dotted id (parent names joined by '.'), depth first. */
export function walkTests(tests: readonly KtapTest[], prefix = ''): { id: string; test: KtapTest }[] {
  return tests.flatMap((t) => {
    const id = prefix ? `${prefix}.${t.name}` : t.name;
    return [{ id, test: t }, ...walkTests(t.children, id)];
  });
}
