// The kernel matrix's names phase: what an LKFT-style consumer calls each case. The flat
// form (--format ktap-flat) of a host run and of each x86 kernel's boot is flattened the
// Linaro way (scripts/parsers/linaro_flatten.py, on tappy); every case must get one name,
// no _dupN, and a case the host and a guest share must have the same name in both, so
// results line up across kernels whatever each kernel's verdict.
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readKtap } from '../../src/ktap/reader.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const FLATTEN = join(ROOT, 'scripts/parsers/linaro_flatten.py');

/** One flat document's case ids (gmemtest's own reader) beside the names the flattening gave. */
export interface Named {
  readonly label: string;
  readonly ids: readonly string[];
  readonly names: readonly string[];
  readonly duplicates: number;
}

interface Flattened { results: { name: string }[]; duplicates: number }

/** The Python with tappy, or null: Debian's python3-tap is for /usr/bin/python3. */
export function tappyPython(): string | null {
  for (const py of [process.env.GMEMTEST_TAPPY_PYTHON, '/usr/bin/python3', 'python3']) {
    if (py && spawnSync(py, ['-c', 'import tap.parser'], { encoding: 'utf8' }).status === 0) return py;
  }
  return null;
}

/** Flattens `text` (a flat KTAP document); its ids come from the results at depth 0. */
export function named(label: string, text: string, python: string): Named {
  const r = spawnSync(python, [FLATTEN, '--mode', 'kselftest'], { input: text, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`linaro_flatten.py on ${label}: exit ${r.status}: ${r.stderr.trim()}`);
  const f = JSON.parse(r.stdout) as Flattened;
  const ids = readKtap(text).tests.map((x) => x.name);
  return { label, ids, names: f.results.map((x) => x.name), duplicates: f.duplicates };
}

/** What is wrong with the names of `runs` (the first is the host's); empty when all hold. */
export function checkNames(runs: readonly Named[]): string[] {
  const problems: string[] = [];
  const maps = runs.map((r) => {
    if (r.duplicates > 0) problems.push(`${r.label}: ${r.duplicates} duplicate name(s)`);
    if (r.names.length !== r.ids.length) problems.push(`${r.label}: ${r.ids.length} cases, ${r.names.length} names`);
    if (new Set(r.ids).size !== r.ids.length) problems.push(`${r.label}: a case id reported twice`);
    return new Map(r.ids.map((id, i) => [id, r.names[i] ?? '']));
  });
  const [host, ...guests] = maps;
  if (!host) return problems;
  guests.forEach((g, i) => {
    for (const [id, name] of g) {
      const mine = host.get(id);
      if (mine !== undefined && mine !== name) problems.push(`${id}: '${mine}' on ${runs[0]!.label}, '${name}' on ${runs[i + 1]!.label}`);
    }
  });
  return problems;
}

/** "sid: 49 cases, 49 shared with the host, names identical" for each guest. */
export function namesSummary(runs: readonly Named[]): string[] {
  const host = new Set(runs[0]?.ids ?? []);
  return runs.map((r, i) => (i === 0 ? `${r.label}: ${r.ids.length} cases`
    : `${r.label}: ${r.ids.length} cases, ${r.ids.filter((id) => host.has(id)).length} shared with ${runs[0]!.label}`));
}
