/**
 * The inputs of `gmemtest report`: files and directories of gmemtest results, each file
 * recognised by what it holds (a `--format json` document, gmemtest's KTAP, a
 * `gmemtest boot` KTAP), never by its name. A directory gives its `.json`, `.ktap` and
 * `.tap` files, at any depth, in name order (so a directory of CI artifacts works).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join, relative } from 'node:path';
import { ReportInputError, runFromJson } from './from-json.js';
import { runFromKtap } from './from-ktap.js';
import type { Run } from './model.js';

export { ReportInputError } from './from-json.js';

export interface ReportInput {
  path: string;
  /** The column's name (default: the file's name without its extension). */
  label?: string;
  /** What sets the run apart (a kvm.ko variant, say), shown beside its kernel. */
  variant?: string;
  /** Where it ran, when the file cannot say (the lab's guests: plain KTAP from inside QEMU). */
  environment?: string;
}

const RESULT_EXTENSIONS = new Set(['.json', '.ktap', '.tap']);

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => !e.name.startsWith('.'))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .flatMap((e) => {
      const p = join(dir, e.name);
      if (e.isDirectory()) return filesUnder(p);
      return e.isFile() && RESULT_EXTENSIONS.has(extname(e.name)) ? [p] : [];
    });
}

/** Reads one file as a run (without its label). */
export function readRun(file: string, text: string): Omit<Run, 'label'> {
  const body = text.replace(/^\uFEFF/, '');
  if (body.trim() === '') throw new ReportInputError(`${file}: empty file`);
  if (body.trimStart().startsWith('{')) {
    let doc: unknown;
    try {
      doc = JSON.parse(body);
    } catch (e) {
      throw new ReportInputError(`${file}: not valid JSON (${(e as Error).message})`);
    }
    return runFromJson(file, text, doc);
  }
  if (/^(?:KTAP|TAP) version \d+\s*$/.test(body.split('\n', 1)[0]!)) return runFromKtap(file, body);
  throw new ReportInputError(`${file}: not a gmemtest result (neither a --format json document nor KTAP)`);
}

function expand(inputs: readonly (string | ReportInput)[]): ReportInput[] {
  return inputs.flatMap((i) => {
    const input = typeof i === 'string' ? { path: i } : i;
    let st;
    try {
      st = statSync(input.path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new ReportInputError(`${input.path}: ${code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`);
    }
    if (!st.isDirectory()) return [input];
    const files = filesUnder(input.path);
    if (files.length === 0) throw new ReportInputError(`${input.path}: no result files (*.json, *.ktap, *.tap) in this directory`);
    return files.map((path) => ({ path, ...(input.variant ? { variant: input.variant } : {}), ...(input.environment ? { environment: input.environment } : {}) }));
  });
}

const stem = (p: string): string => basename(p, extname(p));

/** Column names: the file's stem; where stems collide its name, then its path. */
function labels(inputs: readonly ReportInput[]): string[] {
  const pick = (f: (i: ReportInput) => string) => inputs.map((i) => i.label ?? f(i));
  const unique = (names: string[], n: number): boolean => names.filter((s) => s === names[n]).length === 1;
  const stems = pick((i) => stem(i.path));
  const names = pick((i) => basename(i.path));
  const paths = pick((i) => relative(process.cwd(), i.path) || i.path);
  return inputs.map((_, n) => (unique(stems, n) ? stems[n]! : unique(names, n) ? names[n]! : paths[n]!));
}

/** Reads every input; throws ReportInputError (one line) for the first that is not right. */
export function loadRuns(inputs: readonly (string | ReportInput)[]): Run[] {
  const list = expand(inputs);
  if (list.length === 0) throw new ReportInputError('no result files given');
  const seen = new Map<string, string>();
  const names = labels(list);
  return list.map((input, n) => {
    let text: string;
    try {
      text = readFileSync(input.path, 'utf8');
    } catch (e) {
      throw new ReportInputError(`${input.path}: ${(e as Error).message}`);
    }
    const before = seen.get(text);
    if (before !== undefined) {
      throw new ReportInputError(before === input.path ? `${input.path}: given twice` : `${input.path}: the same run as ${before} (identical content)`);
    }
    seen.set(text, input.path);
    const run = readRun(input.path, text);
    return { ...run, label: names[n]!, variant: input.variant ?? run.variant, environment: input.environment ?? run.environment };
  });
}
