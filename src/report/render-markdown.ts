/**
 * Markdown for a PR comment or a CI job summary (GitHub's $GITHUB_STEP_SUMMARY, GitLab
 * notes): the runs and their totals, the cases that differ between runs or fail, and,
 * folded in <details>, the whole matrix and the diagnostics of the failing cells.
 */
import { isBad } from '../runner/outcome.js';
import { COUNT_KEYS, rowShown, summaryLine, type CountKey, type Matrix, type Row, type RowFilter } from './model.js';

const MARK: Readonly<Record<CountKey, string>> = {
  pass: '✅ pass', fail: '❌ FAIL', error: '💥 ERROR', timeout: '⏱️ TIMEOUT', xpass: '❗ XPASS', xfail: '☑️ xfail', skip: '⏭️ skip', missing: '—',
};

/** Table-cell text: pipes escaped, one line. */
const cell = (s: string): string => s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ').replace(/</g, '&lt;');
const code = (s: string): string => `\`${s.replace(/`/g, "'")}\``;

function matrixTable(m: Matrix, rows: readonly Row[]): string[] {
  const head = `| case | ${m.runs.map((r) => cell(r.label)).join(' | ')} |`;
  const rule = `| --- |${m.runs.map(() => ' :-: |').join('')}`;
  return [head, rule, ...rows.map((r) => `| ${code(r.id)} | ${r.cells.map((c) => MARK[c?.status ?? 'missing']).join(' | ')} |`)];
}

export function renderMarkdown(m: Matrix, filter: RowFilter = {}): string {
  const out: string[] = ['## gmemtest report', '', `${summaryLine(m)}.`, ''];
  const keys = COUNT_KEYS.filter((k) => m.counts.some((n) => n[k] > 0));
  out.push(`| # | run | kernel | arch | variant | where | ${keys.map((k) => (k === 'missing' ? 'not run' : k)).join(' | ')} |`);
  out.push(`| --- | --- | --- | --- | --- | --- |${keys.map(() => ' ---: |').join('')}`);
  m.runs.forEach((r, i) => {
    const counts = keys.map((k) => String(m.counts[i]![k]));
    out.push(`| ${i + 1} | ${cell(r.label)} | ${code(r.kernel ?? 'unknown')} | ${r.arch} | ${cell(r.variant ?? '')} | ${cell(r.environment)} | ${counts.join(' | ')} |`);
  });
  const problems = m.runs.filter((r) => r.problem !== null);
  if (problems.length > 0) {
    out.push('', '**Runs with a problem:**', '');
    for (const r of problems) out.push(`- **${cell(r.label)}**: ${MARK[r.problem!.status]} ${cell(r.problem!.message)}`);
  }

  const notable = m.rows.filter((r) => (r.differs || r.failing) && rowShown(r, filter));
  out.push('', `### Cases that differ between runs or fail (${notable.length})`, '');
  if (notable.length === 0) out.push(m.rows.length === 0 ? 'No cases.' : 'None: every case has the same status in every run, and none fails.');
  else out.push(...matrixTable(m, notable));

  const all = m.rows.filter((r) => rowShown(r, filter));
  out.push('', `<details><summary>All cases (${all.length})</summary>`, '', ...matrixTable(m, all), '', '</details>');

  const failing = m.rows.flatMap((row) => row.cells.flatMap((c, i) => (c !== null && isBad(c.status) && rowShown(row, filter) ? [{ row, c, run: m.runs[i]! }] : [])));
  if (failing.length > 0) {
    out.push('', `<details><summary>Diagnostics of the failing cells (${failing.length})</summary>`, '');
    for (const { row, c, run } of failing) {
      out.push(`**${code(row.id)}** on ${cell(run.label)}: ${MARK[c.status]}${c.reason ? ` (${cell(c.reason)})` : ''}`, '');
      if (c.diagnostics.length > 0) out.push('```', ...c.diagnostics.map((d) => d.replace(/```/g, "'''")), '```', '');
    }
    out.push('</details>');
  }
  return `${out.join('\n')}\n`;
}
