// The kernel's kselftest runner (tools/testing/selftests/run_kselftest.sh and kselftest/,
// from the same linux-source tree as kunit.py) run on one test, in the install layout it
// needs, to see how it wraps a test's output:
//
//   <dir>/run_kselftest.sh
//   <dir>/kselftest/{runner.sh,ktap_helpers.sh,prefix.pl,...}
//   <dir>/kselftest-list.txt          one "<collection>:<test>" a line
//   <dir>/<collection>/<test>         the executable, run from its own directory
//   <dir>/<collection>/settings       "timeout=<s>" (default 45 s without it)
//
// Each line the test prints (stdout and stderr together) comes out prefixed "# ", after a
// "# selftests: <collection>: <test>" line, followed by the runner's own result:
// exit 0 `ok N selftests: c: t`, 4 `... # SKIP`, 2 `... # XFAIL`, the timeout's 124
// `not ok ... # TIMEOUT <s> seconds`, anything else `not ok ... # exit=<code>`.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { layOut } from '../../scripts/kselftest-install.js';

export interface KselftestRun {
  /** run_kselftest.sh's stdout (read through a pipe, as CI reads it). */
  output: string;
  exitCode: number;
}

export interface KselftestTest {
  collection: string;
  test: string;
  /** The test executable's text (a script with its #! line). */
  script: string;
  /** settings file timeout, seconds. */
  timeout?: number;
  /** Extra environment (e.g. KSELFTEST_<TEST>_ARGS). */
  env?: NodeJS.ProcessEnv;
}


/** Installs one test and runs run_kselftest.sh on it. */
export function runKselftest(tree: string, t: KselftestTest): KselftestRun {
  const dir = mkdtempSync(join(tmpdir(), 'gmemtest-ksft-'));
  try {
    layOut(tree, dir, t);
    // Through a pipe: with stdout on a regular file the runner's own lines and the
    // prefixed test output (appended through a second open of /dev/stdout) overwrite
    // each other.
    const r = spawnSync('bash', ['-c', './run_kselftest.sh 2>&1 | cat; exit "${PIPESTATUS[0]}"'], {
      cwd: dir, encoding: 'utf8', timeout: 600_000, env: { ...process.env, ...t.env },
    });
    return { output: r.stdout ?? '', exitCode: r.status ?? -1 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A test script that prints `text` and exits with `code` (for feeding hand-written KTAP through the runner). */
export function printingScript(text: string, code: number): string {
  const quoted = text.replace(/'/g, `'\\''`);
  return `#!/bin/sh\nprintf '%s' '${quoted}'\nexit ${code}\n`;
}
