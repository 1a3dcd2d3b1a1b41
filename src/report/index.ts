/**
 * The report's entry points for scripts (`npm run test:kernels`, the lab): read result
 * files into a matrix and write the HTML page, the same code as `gmemtest report`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { loadRuns, type ReportInput } from './inputs.js';
import { buildMatrix, type Matrix } from './model.js';
import { renderHtml, type HtmlOptions } from './render-html.js';

export { loadRuns, ReportInputError, type ReportInput } from './inputs.js';
export { buildMatrix, summaryLine, type Matrix, type Run } from './model.js';
export { renderHtml } from './render-html.js';
export { renderMarkdown } from './render-markdown.js';
export { renderText } from './render-text.js';
export { kcidbOfRuns } from './kcidb.js';

/**
 * Reads the inputs (files or directories of `--format json` / KTAP / `gmemtest boot`
 * results, each optionally with a label and a variant) and writes the page to `file`.
 * Throws ReportInputError on an input that is not a gmemtest result.
 */
export function writeHtmlReport(inputs: readonly (string | ReportInput)[], file: string, opts: HtmlOptions = {}): { file: string; matrix: Matrix } {
  const matrix = buildMatrix(loadRuns(inputs));
  const out = resolve(file);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, renderHtml(matrix, opts));
  return { file: out, matrix };
}
