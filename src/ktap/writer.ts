/**
 * KTAP v1 lines (Documentation/dev-tools/ktap.rst): version, plan, result and
 * diagnostic lines, two spaces of indentation per nesting level.
 */

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

/** A whole document that runs nothing: `1..0 # SKIP <reason>`. */
export const skipAllDocument = (reason: string): string => `${versionLine(0)}\n${planLine(0, 0)} # SKIP ${clean(reason)}\n`;

export const bailOutLine = (reason: string): string => `Bail out! ${clean(reason)}`;
