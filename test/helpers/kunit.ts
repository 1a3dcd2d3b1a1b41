// KUnit's own KTAP parser (tools/testing/kunit/kunit.py parse) run on a KTAP string, for
// tests that check what kernel CI's parser concludes from gmemtest's output. The tree it
// comes from: scripts/kernels/linux-tools.ts.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KUNIT_PY } from '../../scripts/kernels/linux-tools.js';

export { kunitTree, findKunitTree, fetchKunitTree } from '../../scripts/kernels/linux-tools.js';

export interface KunitCounts {
  /** Leaves (tests without subtests), as kunit.py's "Ran N tests". */
  tests: number;
  passed: number;
  failed: number;
  crashed: number;
  skipped: number;
  errors: number;
}

export interface KunitParse {
  /** kunit.py's exit code: 0 only when the run's status is SUCCESS (not SKIPPED). */
  exitCode: number;
  counts: KunitCounts;
  /** The `[ERROR] Test: <name>: <message>` lines, without the prefix. */
  errors: string[];
  /** The "Testing complete. ..." line. */
  summary: string;
  /** kunit.py's --json document (KernelCI test-group shape). */
  json: KunitJsonGroup;
  /** Leaf test paths (dotted, 'main' left out) with kunit.py's status word. */
  leaves: { path: string; status: string }[];
}

export interface KunitJsonGroup {
  name: string;
  sub_groups: KunitJsonGroup[];
  test_cases: { name: string; status: string }[];
  misc: KunitCounts;
}

const python = (): string => process.env.GMEMTEST_PYTHON ?? 'python3';

function leavesOf(g: KunitJsonGroup, prefix: string): { path: string; status: string }[] {
  const p = (n: string): string => (prefix === '' ? n : `${prefix}.${n}`);
  return [
    ...g.test_cases.map((c) => ({ path: p(c.name), status: c.status })),
    ...g.sub_groups.flatMap((s) => leavesOf(s, p(s.name))),
  ];
}

/** Runs `kunit.py parse --json=<file> <ktap file>` from `tree` and reads what it concluded. */
export function kunitParse(ktap: string, tree: string): KunitParse {
  const dir = mkdtempSync(join(tmpdir(), 'gmemtest-kunit-parse-'));
  try {
    const input = join(dir, 'in.ktap');
    const out = join(dir, 'out.json');
    writeFileSync(input, ktap);
    const r = spawnSync(python(), [join(tree, KUNIT_PY), 'parse', `--json=${out}`, input], { encoding: 'utf8', timeout: 60_000 });
    if (r.error) throw r.error;
    // eslint-disable-next-line no-control-regex
    const text = (r.stdout ?? '').replace(/\x1b\[[0-9;]*m/g, '');
    const errors = [...text.matchAll(/\[ERROR\] Test: (.*)$/gm)].map((m) => m[1]!.trim());
    const summary = /Testing complete\..*$/m.exec(text)?.[0] ?? '';
    if (!existsSync(out)) throw new Error(`kunit.py parse wrote no JSON (exit ${r.status}): ${text}${r.stderr}`);
    const json = JSON.parse(readFileSync(out, 'utf8')) as KunitJsonGroup;
    return { exitCode: r.status ?? -1, counts: { ...json.misc }, errors, summary, json, leaves: leavesOf(json, '') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
