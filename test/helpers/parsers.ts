// What the parsers kernel CI uses conclude from a KTAP document: KUnit's kunit.py
// (test/helpers/kunit.ts), a Linaro-style flattening and tappy's own consumer (the Python
// scripts in test/parsers/, on Debian's python3-tap), and tap-parser in strict mode.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Parser, type FinalResults } from 'tap-parser';
import { ktapToTap14 } from './ktap.js';

const HERE = dirname(fileURLToPath(import.meta.url));
export const PARSERS_DIR = join(HERE, '..', '..', 'scripts', 'parsers');

/**
 * The Python that has tappy (python3-tap). Debian installs it for /usr/bin/python3; a
 * python3 earlier on PATH (pyenv, a venv) may not see it. GMEMTEST_TAPPY_PYTHON overrides.
 */
export function tappyPython(): { ok: true; python: string } | { ok: false; reason: string } {
  const candidates = [process.env.GMEMTEST_TAPPY_PYTHON, '/usr/bin/python3', 'python3'].filter((c): c is string => !!c);
  for (const py of candidates) {
    const r = spawnSync(py, ['-c', 'import tap.parser, tap.loader'], { encoding: 'utf8' });
    if (r.status === 0) return { ok: true, python: py };
  }
  return { ok: false, reason: 'no python3 with tappy (apt-get install python3-tap)' };
}

function runPython(script: string, args: string[], text: string): unknown {
  const py = tappyPython();
  if (!py.ok) throw new Error(py.reason);
  const dir = mkdtempSync(join(tmpdir(), 'gmemtest-parsers-'));
  try {
    const file = join(dir, 'in.ktap');
    writeFileSync(file, text);
    const r = spawnSync(py.python, [join(PARSERS_DIR, script), ...args, file], { encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) throw new Error(`${script} exited ${r.status}: ${r.stderr}`);
    return JSON.parse(r.stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface LinaroResult { name: string; result: 'pass' | 'fail' | 'skip'; logs: string }
export interface LinaroFlat {
  mode: 'kselftest' | 'kunit';
  results: LinaroResult[];
  counts: { pass: number; fail: number; skip: number };
  duplicates: number;
}

/** test/parsers/linaro_flatten.py: the flat "name result" list an LKFT-style parse records. */
export function linaroFlatten(text: string, mode: 'kselftest' | 'kunit' = 'kselftest'): LinaroFlat {
  return runPython('linaro_flatten.py', ['--mode', mode], text) as LinaroFlat;
}

export interface TappyVerdict {
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
  expected_failures: number;
  unexpected_successes: number;
  successful: boolean;
  rule_errors: string[];
  results: { name: string; status: string }[];
}

/** test/parsers/tappy_verdict.py: what tappy's own consumer (its Loader) concludes. */
export function tappyVerdict(text: string): TappyVerdict {
  return runPython('tappy_verdict.py', [], text) as TappyVerdict;
}

export interface TapLeaf { path: string; name: string; ok: boolean; skip: boolean; todo: boolean }
export interface TapParserVerdict {
  ok: boolean;
  /** Top-level FinalResults counts. */
  final: Pick<FinalResults, 'count' | 'pass' | 'fail' | 'skip' | 'todo' | 'plan'>;
  bailout: string | boolean;
  /** Every result without subtests, at any depth. */
  leaves: TapLeaf[];
  /** Failures tap-parser itself reports (plan, numbering), names only. */
  failures: string[];
  /** Non-TAP lines. */
  extra: number;
}

/**
 * tap-parser strict on a KTAP document mapped to TAP14 as test/helpers/ktap.ts maps it
 * (nesting two spaces → four, nested version lines dropped); a document that starts with
 * a TAP version line (kselftest's runner) is given as it is.
 */
export function tapParserVerdict(text: string): TapParserVerdict {
  const tap = text.startsWith('KTAP version 1') ? ktapToTap14(text) : text;
  const leaves: TapLeaf[] = [];
  let extra = 0;
  const watch = (p: Parser, prefix: string): void => {
    let child = false;
    p.on('child', (c: Parser) => { child = true; watch(c, `${prefix}?.`); });
    p.on('assert', (a: { name: string; ok: boolean; skip: string | boolean; todo: string | boolean }) => {
      const path = `${prefix}${a.name}`;
      if (!child) leaves.push({ path, name: a.name, ok: a.ok, skip: a.skip !== false, todo: a.todo !== false });
      // children were recorded with '?' for the parent's name, not known until now
      for (const l of leaves) if (l.path.startsWith(`${prefix}?.`)) l.path = `${prefix}${a.name}.${l.path.slice(prefix.length + 2)}`;
      child = false;
    });
    p.on('extra', (e: string) => { if (e.trim() !== '') extra++; });
  };
  const parser = new Parser({ strict: true });
  watch(parser, '');
  let final: FinalResults | undefined;
  parser.on('complete', (r: FinalResults) => { final = r; });
  parser.end(tap.endsWith('\n') ? tap : `${tap}\n`);
  if (!final) throw new Error('tap-parser did not complete');
  const f = final;
  return {
    ok: f.ok,
    final: { count: f.count, pass: f.pass, fail: f.fail, skip: f.skip, todo: f.todo, plan: f.plan },
    bailout: f.bailout,
    leaves,
    failures: f.failures.map((x) => (x as { name?: string }).name ?? String(x)),
    extra,
  };
}

export interface JunitRead {
  suites: number;
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
  cases: { suite: string; classname: string; name: string; time: number; result: 'pass' | 'failure' | 'error' | 'skipped'; message: string | null }[];
  properties: Record<string, Record<string, string>>;
  declared: { tests: number; failures: number; errors: number; skipped: number };
}

/** scripts/parsers/junit_read.py: what junitparser (Debian's python3-junitparser), not gmemtest, reads from a JUnit report. */
export function junitRead(xml: string): JunitRead {
  return runPython('junit_read.py', [], xml) as JunitRead;
}

/** Whether junitparser can be imported by the Python that has tappy. */
export function junitparserMissing(): string | null {
  const py = tappyPython();
  if (!py.ok) return py.reason;
  const r = spawnSync(py.python, ['-c', 'import junitparser'], { encoding: 'utf8' });
  return r.status === 0 ? null : 'junitparser is not installed (apt-get install python3-junitparser)';
}
