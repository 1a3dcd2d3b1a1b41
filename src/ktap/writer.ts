/**
 * KTAP v1 lines (Documentation/dev-tools/ktap.rst): version, plan, result and
 * diagnostic lines, two spaces of indentation per nesting level.
 */
import { emptyTotals, totalsLine, type Totals } from './totals.js';

export const indent = (depth: number): string => '  '.repeat(depth);

/** A description or directive text with the characters KTAP reserves taken out. */
export function clean(text: string): string {
  return text.replace(/#/g, '').replace(/\s+/g, ' ').trim();
}

export const versionLine = (depth: number): string => `${indent(depth)}KTAP version 1`;
export const planLine = (depth: number, n: number): string => `${indent(depth)}1..${n}`;
/** KUnit's subtest header, which its parser keys nested suites on. */
export const subtestLine = (depth: number, name: string): string => `${indent(depth)}# Subtest: ${clean(name)}`;

/** One `# ` line per line of text (diagnostics are never multi-line in KTAP). */
export function diagLines(depth: number, text: string): string[] {
  return text.split('\n').map((l) => `${indent(depth)}# ${l.replace(/\s+$/, '')}`.replace(/# $/, '#'));
}

export type Directive = 'SKIP' | 'XFAIL' | 'XPASS' | 'TIMEOUT' | 'ERROR';

export function resultLine(depth: number, ok: boolean, n: number, name: string,
  directive?: Directive, detail?: string): string {
  let line = `${indent(depth)}${ok ? 'ok' : 'not ok'} ${n} ${clean(name)}`;
  if (directive) line += ` # ${directive}${detail ? ` ${clean(detail)}` : ''}`;
  return line;
}

/**
 * A whole document of one result that is not a case: `name` skipped or failed as a whole
 * (no device, no QEMU, an internal error), with this host's side of it as a `# ` line.
 * One test rather than `1..0`, which KUnit's parser takes for an error ("0 tests run").
 */
export function wholeRunDocument(name: string, result: { ok: boolean; directive: Directive; reason: string; detail?: string },
  totals: Totals): string {
  const lines = [versionLine(0), planLine(0, 1), ...(result.detail ? diagLines(0, result.detail) : []),
    resultLine(0, result.ok, 1, name, result.directive, result.reason), totalsLine(totals)];
  return `${lines.join('\n')}\n`;
}

/** gmemtest could not even start its run: `not ok 1 gmemtest # ERROR internal error`. */
export const internalErrorDocument = (message: string): string => wholeRunDocument('gmemtest',
  { ok: false, directive: 'ERROR', reason: 'internal error', detail: `internal error: ${message.replace(/\s+/g, ' ')}` },
  { ...emptyTotals(), error: 1 });

