// `npm run kselftest-install -- <dir> [--tree <linux-source tree>]`: lays out gmemtest as
// a test of the kernel's own kselftest runner, with that runner taken from the same
// Debian linux-source tree the kernel matrix tests (fetched and cached when --tree is
// not given):
//
//   <dir>/run_kselftest.sh, <dir>/kselftest/...   the kernel's runner, as it ships
//   <dir>/kselftest-list.txt                       kvm:gmemtest
//   <dir>/kvm/gmemtest                             runs this checkout's bin/gmemtest
//   <dir>/kvm/settings                             timeout=300
//
// Then `cd <dir> && ./run_kselftest.sh` (or `-c kvm`, `-t kvm:gmemtest`) runs it. Without
// arguments the wrapper asks for the flat KTAP form (one result per case id), which the
// parsers that read kselftest output (Linaro's test-definitions, as LKFT runs them) keep
// as unique, host-independent names; KSELFTEST_GMEMTEST_ARGS replaces that.
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { kunitTree } from './kernels/linux-tools.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const COLLECTION = 'kvm';
export const TEST = 'gmemtest';
export const TIMEOUT_S = 300;

/** The wrapper the runner executes (it passes KSELFTEST_GMEMTEST_ARGS as arguments). */
export function wrapperScript(bin = join(ROOT, 'bin', 'gmemtest')): string {
  return [
    '#!/bin/sh',
    '# gmemtest as a kselftest: written by npm run kselftest-install.',
    '[ "$#" -gt 0 ] || set -- --format ktap-flat',
    `exec '${bin.replace(/'/g, `'\\''`)}' "$@"`,
    '',
  ].join('\n');
}

/** One test in a kselftest install: `<collection>/<test>`, its executable's text and settings timeout. */
export interface InstalledTest {
  readonly collection: string;
  readonly test: string;
  readonly script: string;
  /** Seconds; without it the runner's default (45 s). */
  readonly timeout?: number;
}

/**
 * Lays out the kernel's runner from the tree's tools/testing/selftests in `dir` (run_kselftest.sh,
 * kselftest/) with `t` as its only test (kselftest-list.txt, the executable, settings).
 */
export function layOut(tree: string, dir: string, t: InstalledTest): void {
  const src = join(tree, 'tools', 'testing', 'selftests');
  mkdirSync(join(dir, 'kselftest'), { recursive: true });
  copyFileSync(join(src, 'run_kselftest.sh'), join(dir, 'run_kselftest.sh'));
  chmodSync(join(dir, 'run_kselftest.sh'), 0o755);
  for (const f of readdirSync(join(src, 'kselftest'))) {
    copyFileSync(join(src, 'kselftest', f), join(dir, 'kselftest', f));
    chmodSync(join(dir, 'kselftest', f), 0o755);
  }
  writeFileSync(join(dir, 'kselftest-list.txt'), `${t.collection}:${t.test}\n`);
  mkdirSync(join(dir, t.collection), { recursive: true });
  writeFileSync(join(dir, t.collection, t.test), t.script, { mode: 0o755 });
  if (t.timeout !== undefined) writeFileSync(join(dir, t.collection, 'settings'), `timeout=${t.timeout}\n`);
}

/** Writes the install into `dir` from the tree's tools/testing/selftests. */
export function install(tree: string, dir: string): void {
  if (!existsSync(join(tree, 'tools', 'testing', 'selftests', 'run_kselftest.sh'))) {
    throw new Error(`${tree}: no tools/testing/selftests/run_kselftest.sh`);
  }
  layOut(tree, dir, { collection: COLLECTION, test: TEST, script: wrapperScript(), timeout: TIMEOUT_S });
}

function main(argv: string[]): number {
  const dir = argv.find((a) => !a.startsWith('--'));
  const ti = argv.indexOf('--tree');
  if (dir === undefined || (ti >= 0 && argv[ti + 1] === undefined)) {
    console.error('usage: npm run kselftest-install -- <dir> [--tree <linux-source tree>]');
    return 2;
  }
  let tree: string;
  if (ti >= 0) tree = argv[ti + 1]!;
  else {
    const t = kunitTree();
    if (!t.ok) {
      console.error(`kselftest-install: no kernel tree: ${t.reason}`);
      return 1;
    }
    tree = t.tree;
  }
  install(tree, resolve(dir));
  console.log(`kselftest-install: ${resolve(dir)} (runner from ${tree}); run: cd ${resolve(dir)} && ./run_kselftest.sh`);
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exitCode = main(process.argv.slice(2));
