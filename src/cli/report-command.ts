/**
 * `gmemtest report <result>...`: merges results (files or directories of `--format json`
 * documents, gmemtest KTAP and `gmemtest boot` KTAP) into one matrix, printed as a
 * terminal table, Markdown or KCIDB JSON, and optionally written as an HTML page.
 * Exit 0 when the report was made (whatever the results say); 2 for an input that is not
 * a gmemtest result, with one line naming it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { kcidbOfRuns } from '../report/kcidb.js';
import { loadRuns, ReportInputError } from '../report/inputs.js';
import { buildMatrix } from '../report/model.js';
import { renderHtml } from '../report/render-html.js';
import { renderMarkdown } from '../report/render-markdown.js';
import { renderText } from '../report/render-text.js';
import { chalkFor } from './colour.js';
import { EXIT_PASS, UsageError } from './exit-codes.js';
import type { Io } from './io.js';

export interface ReportCommandOptions {
  markdown?: boolean;
  html?: string;
  kcidb?: boolean;
  kcidbOrigin: string;
  onlyDifferences?: boolean;
  onlyFailures?: boolean;
}

export function reportCommand(files: readonly string[], opts: ReportCommandOptions, io: Io, version: string,
  tty: { isTTY: boolean; columns?: number } = process.stdout): number {
  if (opts.markdown && opts.kcidb) throw new UsageError('report: --markdown and --kcidb both print to stdout; give one');
  let matrix;
  let runs;
  try {
    runs = loadRuns(files);
    matrix = buildMatrix(runs);
  } catch (e) {
    if (e instanceof ReportInputError) throw new UsageError(`report: ${e.message}`);
    throw e;
  }
  const filter = { onlyDifferences: opts.onlyDifferences === true, onlyFailures: opts.onlyFailures === true };
  if (opts.html !== undefined) {
    const out = resolve(opts.html);
    try {
      mkdirSync(dirname(out), { recursive: true });
      writeFileSync(out, renderHtml(matrix, { generator: `gmemtest ${version}` }));
    } catch (e) {
      throw new UsageError(`report: --html ${opts.html}: ${(e as Error).message}`);
    }
    io.err(`gmemtest: report: wrote ${out}\n`);
  }
  if (opts.kcidb) io.out(`${JSON.stringify(kcidbOfRuns(runs, opts.kcidbOrigin), null, 2)}\n`);
  else if (opts.markdown) io.out(renderMarkdown(matrix, filter));
  else io.out(renderText(matrix, { ...filter, chalk: chalkFor(), ...(tty.isTTY && tty.columns ? { width: tty.columns } : {}) }));
  return EXIT_PASS;
}
