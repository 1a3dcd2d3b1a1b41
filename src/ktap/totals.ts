/**
 * kselftest's closing `# Totals:` line (tools/testing/selftests/kselftest.h prints one
 * like it), which gmemtest writes after the KTAP and reads back from a guest's KTAP.
 */

/** Counts of leaf cases, as kselftest's Totals line names them. */
export interface Totals {
  pass: number;
  fail: number;
  xfail: number;
  xpass: number;
  skip: number;
  error: number;
}

export const TOTALS_KEYS: readonly (keyof Totals)[] = ['pass', 'fail', 'xfail', 'xpass', 'skip', 'error'];

export const emptyTotals = (): Totals => ({ pass: 0, fail: 0, xfail: 0, xpass: 0, skip: 0, error: 0 });

export function totalsLine(t: Totals): string {
  return `# Totals: ${TOTALS_KEYS.map((k) => `${k}:${t[k]}`).join(' ')}`;
}

const TOTALS = /^# Totals: (.*)$/;

/** The counts of a `# Totals:` line (keys it lacks are 0); null when `line` is not one. */
export function parseTotalsLine(line: string): Totals | null {
  const m = TOTALS.exec(line);
  if (!m) return null;
  const t = emptyTotals();
  let seen = 0;
  for (const kv of m[1]!.trim().split(/\s+/)) {
    const p = /^(pass|fail|xfail|xpass|skip|error):(\d+)$/.exec(kv);
    if (p) { t[p[1] as keyof Totals] = Number(p[2]); seen++; }
  }
  return seen > 0 ? t : null;
}
