/**
 * The terminal table: the runs with their totals, the matrix, then the diagnostics of
 * every failing cell. Colour comes from the chalk instance the caller picked (NO_COLOR,
 * FORCE_COLOR, a TTY or not); on a TTY `width` keeps rows to the screen by shortening ids
 * from the left.
 */
import type { ChalkInstance } from 'chalk';
import { isBad } from '../runner/outcome.js';
import {
  COUNT_KEYS, rowShown, runTitle, STATUS_WORD, summaryLine, type Cell, type CountKey, type Matrix, type RowFilter,
} from './model.js';

export interface TextOptions extends RowFilter {
  chalk: ChalkInstance;
  /** The terminal's width, when writing to one. */
  width?: number;
}

function paint(c: ChalkInstance, k: CountKey, text: string): string {
  switch (k) {
    case 'pass': return c.green(text);
    case 'skip': return c.yellow(text);
    case 'xfail': return c.cyan(text);
    case 'missing': return c.dim(text);
    default: return c.red.bold(text);
  }
}

/** Pads to a width counted in characters of the text without colour. */
const pad = (text: string, plain: string, width: number): string => text + ' '.repeat(Math.max(0, width - plain.length));

/** Ids keep their end (the case), labels their start. */
const shorten = (s: string, max: number): string => (s.length <= max ? s : `…${s.slice(s.length - max + 1)}`);
const clip = (s: string, max: number): string => (s.length <= max ? s : `${s.slice(0, max - 1)}…`);

export function renderText(m: Matrix, opts: TextOptions): string {
  const c = opts.chalk;
  const out: string[] = [c.bold(`gmemtest report: ${summaryLine(m)}`), ''];

  // The runs, numbered, each with its counts.
  const shown = COUNT_KEYS.filter((k) => m.counts.some((n) => n[k] > 0));
  const runHead = ['#', 'run', 'kernel / arch / variant', ...shown.map((k) => (k === 'missing' ? 'not run' : k))];
  const runRows = m.runs.map((r, i) => [String(i + 1), r.label, runTitle(r).replace(/^kernel /, ''), ...shown.map((k) => String(m.counts[i]![k]))]);
  const w = runHead.map((h, i) => Math.max(h.length, ...runRows.map((r) => r[i]!.length)));
  out.push(c.dim(runHead.map((h, i) => (i >= 3 ? h.padStart(w[i]!) : h.padEnd(w[i]!))).join('  ')));
  for (const row of runRows) {
    out.push(row.map((v, i) => {
      if (i < 3) return v.padEnd(w[i]!);
      const k = shown[i - 3]!;
      return v === '0' ? c.dim(v.padStart(w[i]!)) : paint(c, k, v.padStart(w[i]!));
    }).join('  '));
  }
  for (const [i, r] of m.runs.entries()) {
    out.push(`${c.dim(`  [${i + 1}] ${r.environment}; ${r.file}`)}`);
    if (r.problem) out.push(`      ${paint(c, r.problem.status, STATUS_WORD[r.problem.status])} ${r.problem.message}`);
  }
  out.push('');

  // The matrix.
  const rows = m.rows.filter((r) => rowShown(r, opts));
  const colW = m.runs.map((r) => Math.max(7, Math.min(16, r.label.length)));
  const cellsW = colW.reduce((a, b) => a + b + 2, 0);
  const longest = Math.max(4, ...rows.map((r) => r.id.length));
  const idW = opts.width !== undefined ? Math.max(24, Math.min(longest, opts.width - cellsW - 1)) : longest;
  out.push(c.bold([pad('case', 'case', idW), ...m.runs.map((r, i) => clip(r.label, colW[i]!).padEnd(colW[i]!))].join('  ')));
  for (const row of rows) {
    const id = shorten(row.id, idW);
    const cells = row.cells.map((cell, i) => {
      const k: CountKey = cell?.status ?? 'missing';
      return pad(paint(c, k, STATUS_WORD[k]), STATUS_WORD[k], colW[i]!);
    });
    out.push([pad(row.differs ? c.bold(id) : id, id, idW), ...cells].join('  ').trimEnd());
  }
  const hidden = m.rows.length - rows.length;
  if (hidden > 0) out.push(c.dim(`(${hidden} of ${m.rows.length} cases not shown: ${[opts.onlyDifferences && 'only differences', opts.onlyFailures && 'only failures'].filter(Boolean).join(', ')})`));

  // What each failing cell said.
  const failing: string[] = [];
  for (const row of rows) {
    row.cells.forEach((cell: Cell | null, i) => {
      if (cell === null || !isBad(cell.status)) return;
      failing.push(`${paint(c, cell.status, STATUS_WORD[cell.status])} ${row.id} ${c.dim(`on ${m.runs[i]!.label}`)}${cell.reason ? ` (${cell.reason})` : ''}`);
      for (const d of cell.diagnostics) failing.push(`    ${d}`);
    });
  }
  if (failing.length > 0) out.push('', c.bold('failures:'), ...failing.map((l) => `  ${l}`));
  return `${out.join('\n')}\n`;
}
