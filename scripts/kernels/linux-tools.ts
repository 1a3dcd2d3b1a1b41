// A kernel tree's tools for the project's tests and scripts: KUnit's kunit.py (its KTAP
// parser) and the kselftest runner (run_kselftest.sh, kselftest/), from Debian's
// linux-source package of the kernel the matrix tests.
//
// Found in a tree already on disk (GMEMTEST_KUNIT_DIR, ~/.cache/gmemtest/kunit/<version>/,
// or any unpacked tree under ~/.cache/gmemtest/lab/), else fetched: `apt-get download
// linux-source-<major.minor>` through the kernel fetcher's private apt configuration,
// keeping only those tools.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

export const KUNIT_PY = join('tools', 'testing', 'kunit', 'kunit.py');

export function cacheHome(): string {
  return process.env.HOME ? homedir() : '/root';
}

export const RUN_KSELFTEST = join('tools', 'testing', 'selftests', 'run_kselftest.sh');

function isTree(dir: string): boolean {
  return existsSync(join(dir, KUNIT_PY)) && existsSync(join(dir, RUN_KSELFTEST));
}

/** Directories under `root` (depth-limited, skipping names ending in .tmp/.partial) that hold kunit.py. */
function treesUnder(root: string, depth: number): string[] {
  if (!existsSync(root)) return [];
  if (isTree(root)) return [root];
  if (depth === 0) return [];
  let names: string[];
  try { names = readdirSync(root).sort(); } catch { return []; }
  return names
    .filter((n) => !/\.(tmp|partial)$/.test(n) && !n.startsWith('.'))
    .map((n) => join(root, n))
    .filter((p) => { try { return statSync(p).isDirectory(); } catch { return false; } })
    .flatMap((p) => treesUnder(p, depth - 1));
}

/**
 * A kernel tree (or a tree reduced to tools/testing/kunit) holding kunit.py, preferring
 * `version` (e.g. "7.2.13-1" or "7.2") when several are cached. null when none is.
 */
export function findKunitTree(version?: string): string | null {
  const env = process.env.GMEMTEST_KUNIT_DIR;
  if (env && isTree(env)) return env;
  const base = join(cacheHome(), '.cache', 'gmemtest');
  const found = [...treesUnder(join(base, 'kunit'), 2), ...treesUnder(join(base, 'lab'), 4)];
  if (found.length === 0) return null;
  const match = version === undefined ? undefined : found.find((p) => p.includes(version));
  return match ?? found[0]!;
}

export const KERNEL_APT_CONFIG = join(cacheHome(), '.cache', 'gmemtest', 'kernels', 'apt', 'apt.conf');

export type Fetched = { ok: true; tree: string } | { ok: false; reason: string };

function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): { ok: boolean; out: string } {
  const r = spawnSync(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, encoding: 'utf8', timeout: opts.timeoutMs ?? 600_000, maxBuffer: 64 << 20 });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}`.trim() };
}

/**
 * Downloads Debian's linux-source-<series> (default 7.2) with the kernel fetcher's private
 * apt configuration and keeps only tools/testing/kunit, in ~/.cache/gmemtest/kunit/<version>/.
 * Returns a reason instead of throwing when the archive or the tools are not there.
 */
export function fetchKunitTree(series = '7.2', aptConfig = KERNEL_APT_CONFIG): Fetched {
  if (!existsSync(aptConfig)) return { ok: false, reason: `no private apt configuration at ${aptConfig} (run npm run kernels:fetch once)` };
  for (const tool of ['apt-get', 'apt-cache', 'dpkg-deb', 'tar', 'xz']) {
    if (!run('sh', ['-c', `command -v ${tool}`]).ok) return { ok: false, reason: `${tool} is not installed` };
  }
  const env = { ...process.env, APT_CONFIG: aptConfig };
  const pkg = `linux-source-${series}`;
  const show = run('apt-cache', ['show', '--no-all-versions', pkg], { env });
  const version = /^Version: (\S+)/m.exec(show.out)?.[1];
  if (!show.ok || version === undefined) return { ok: false, reason: `${pkg} is not in the private apt lists (${show.out.split('\n')[0] ?? ''})` };
  const dest = join(cacheHome(), '.cache', 'gmemtest', 'kunit', version);
  if (isTree(dest)) return { ok: true, tree: dest };
  const work = mkdtempSync(join(tmpdir(), 'gmemtest-kunit-'));
  try {
    const dl = run('apt-get', ['download', '-q', `${pkg}=${version}`], { cwd: work, env, timeoutMs: 1_200_000 });
    const deb = readdirSync(work).find((n) => n.endsWith('.deb'));
    if (!dl.ok || deb === undefined) return { ok: false, reason: `apt-get download ${pkg}=${version} failed: ${dl.out.split('\n').slice(-1)[0] ?? ''}` };
    const staged = join(work, 'tree');
    mkdirSync(staged);
    // The package holds one tarball, /usr/src/linux-source-<series>.tar.xz; take only the
    // kunit tool and the kselftest runner (run_kselftest.sh, kselftest/) out of it.
    const member = `./usr/src/${pkg}.tar.xz`;
    const x = run('sh', ['-c',
      'dpkg-deb --fsys-tarfile "$1" | tar -xOf - "$2" | tar -xJf - -C "$3" --strip-components=1 --wildcards "$4" "$5" "$6"',
      'sh', join(work, deb), member, staged, `${pkg}/tools/testing/kunit/*`,
      `${pkg}/tools/testing/selftests/run_kselftest.sh`, `${pkg}/tools/testing/selftests/kselftest/*`]);
    if (!x.ok || !isTree(staged)) return { ok: false, reason: `could not extract tools/testing/kunit from ${deb}: ${x.out.split('\n').slice(-1)[0] ?? ''}` };
    writeFileSync(join(staged, 'SOURCE'), `${pkg} ${version} (Debian): tools/testing/kunit, run_kselftest.sh and kselftest/ only\n`);
    mkdirSync(join(dest, '..'), { recursive: true });
    rmSync(dest, { recursive: true, force: true });
    renameSync(staged, dest);
    return { ok: true, tree: dest };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** A cached tree, or one fetched now; a reason to SKIP when neither works. */
export function kunitTree(series = '7.2'): Fetched {
  const found = findKunitTree(series);
  if (found !== null) return { ok: true, tree: found };
  if (process.env.GMEMTEST_KUNIT_NO_FETCH) return { ok: false, reason: 'no cached kunit tree and GMEMTEST_KUNIT_NO_FETCH is set' };
  return fetchKunitTree(series);
}

