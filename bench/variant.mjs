// Other builds of gmemtest to measure beside this one in the same bench run
// (`--variant NAME=SPEC`): SPEC is a bundle file (.mjs) used as it is, or a git revision,
// whose src/ and scripts/ are built into bench/build/variants/NAME-<commit>/ (tsc, then
// scripts/bundle.mjs), with this tree's node_modules linked in so the bundle finds ffi-rs
// the same way (also inside a guest, over the 9p root). Built once per commit.
// `NAME=SPEC,VAR=VALUE...` runs that build with those environment variables (e.g.
// `nocache=HEAD,GMEMTEST_V8CACHE=off`: this build without its code cache).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BUILD, ROOT } from './lib.mjs';

/** @returns {{ name: string, bundle: string, spec: string, label: string, env: Record<string, string>, commit?: string }} */
export function buildVariant(arg) {
  const eq = arg.indexOf('=');
  if (eq <= 0) throw new Error(`--variant ${arg}: expected NAME=REVISION or NAME=path/to/bundle.mjs`);
  const name = arg.slice(0, eq);
  const [spec, ...vars] = arg.slice(eq + 1).split(',');
  const env = {};
  for (const v of vars) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(v);
    if (!m) throw new Error(`--variant ${arg}: ${v} is not VAR=VALUE`);
    env[m[1]] = m[2];
  }
  const withEnv = (o) => ({ ...o, env, label: vars.length ? `${spec}, ${vars.join(' ')}` : spec });
  if (!/^[\w.-]+$/.test(name)) throw new Error(`--variant ${arg}: the name must be letters, digits, . _ -`);
  if (spec.endsWith('.mjs') || spec.endsWith('.js')) {
    const bundle = resolve(spec);
    if (!existsSync(bundle)) throw new Error(`--variant ${arg}: ${bundle} does not exist`);
    return withEnv({ name, bundle, spec });
  }
  const commit = execFileSync('git', ['-C', ROOT, 'rev-parse', '--verify', `${spec}^{commit}`], { encoding: 'utf8' }).trim();
  const dir = join(BUILD, 'variants', `${name}-${commit.slice(0, 12)}`);
  const bundle = join(dir, 'dist', 'bundle', 'gmemtest.mjs');
  if (existsSync(bundle)) return withEnv({ name, bundle, spec, commit });
  process.stderr.write(`bench: building variant ${name} (${spec} = ${commit.slice(0, 12)}) in ${dir}\n`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const files = ['src', 'scripts', 'package.json', 'tsconfig.json'];
  const archive = spawnSync('git', ['-C', ROOT, 'archive', '--format=tar', commit, ...files], { maxBuffer: 1 << 28 });
  if (archive.status !== 0) throw new Error(`git archive ${commit}: ${archive.stderr}`);
  const untar = spawnSync('tar', ['-x', '-C', dir], { input: archive.stdout });
  if (untar.status !== 0) throw new Error(`tar: ${untar.stderr}`);
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  const run = (cmd, args) => {
    const r = spawnSync(cmd, args, { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`variant ${name}: ${cmd} ${args.join(' ')}: ${r.stdout}${r.stderr}`);
  };
  run(join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json']);
  run(process.execPath, ['scripts/bundle.mjs']);
  return withEnv({ name, bundle, spec, commit });
}
