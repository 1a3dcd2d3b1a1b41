#!/usr/bin/env node
// Bundles an entry point into ONE file for running inside a `gmemtest boot`
// guest, where every extra file read over 9p under TCG costs ~80x what it
// costs on the host. Development/build helper (esbuild is a devDependency).
//
//   node scripts/bundle.mjs [--entry dist/cli/main.js] [--outfile dist/bundle/gmemtest.mjs]
//                           [--format esm|cjs] [--absolute-externals] [--minify]
//
// Without --entry/--outfile it writes the product's bundle, the CLI (DEFAULT_BUNDLE);
// the only program gmemtest starts, the access helper, is machine code it writes itself.
//
// Native/FFI packages stay external (ffi-rs loads a .node binary that can't be
// bundled). They resolve the normal way, by walking up from the bundle's
// directory to a node_modules, so a bundle inside the project tree finds the
// project's node_modules, which the guest sees read-only through the 9p root.
// A bundle written elsewhere (a temp dir) needs --absolute-externals: the
// import is rewritten to the absolute path of the package's entry file as
// resolved from the project root. (NODE_PATH is no help: ESM ignores it.)
//
// Node built-ins that only some commands use (child_process and zlib for `boot`, crypto
// for KCIDB ids, tty for colour) are loaded on first use (lazyBuiltins below): an ES
// module's imports are hoisted, so the one-file bundle would otherwise load them, and
// child_process's net/dgram behind it, in every run.
//
// The package version is baked in (define __GMEMTEST_VERSION__), so the bundle
// does not depend on finding package.json relative to its own URL;
// src/cli/version.ts falls back to reading package.json when not bundled.
// `npm run build` writes the default output, dist/bundle/gmemtest.mjs, which
// `gmemtest boot` runs inside the guest.
//
// The product's bundle (no --entry/--outfile, what `npm run build` writes) is two files:
// dist/bundle/gmemtest.cjs, the program as one CommonJS script, and dist/bundle/gmemtest.mjs,
// a small loader that compiles it with V8's code cache (bundleProduct below). In a TCG guest
// compiling the program's functions as they are first called costs hundreds of
// milliseconds; with the cache V8 deserialises them instead.
//
// Also usable as a module: import { bundle } from './scripts/bundle.mjs'.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// xmlbuilder2 (only --format junit loads it, lazily) stays out of the bundle: it is ~0.9 MB
// that every guest run would otherwise read and parse.
export const EXTERNALS = ['ffi-rs', 'xmlbuilder2'];
export const DEFAULT_BUNDLE = { entry: 'dist/cli/main.js', outfile: 'dist/bundle/gmemtest.mjs' };
/** Built-ins the bundle loads when one of their exports is first touched. */
export const LAZY_BUILTINS = ['child_process', 'crypto', 'tty', 'zlib'];

/**
 * Each import or require() of a LAZY_BUILTINS module becomes a CommonJS stand-in whose
 * exports are getters (the same names, read off the module at build time): the first
 * one read loads the real module and hands back its value itself, so functions, classes
 * and constants stay what they are (`instanceof`, `new`, `this`). esbuild reads named
 * imports of a CommonJS module at each use, so nothing is read at load time.
 * `node:process` becomes the global process object (an ES import of the built-in would
 * copy every property, running lazy getters such as process.report).
 */
function lazyBuiltins() {
  const here = createRequire(import.meta.url);
  const filter = new RegExp(`^(node:)?(${[...LAZY_BUILTINS, 'process'].join('|')})$`);
  return {
    name: 'lazy-builtins',
    setup(b) {
      b.onResolve({ filter }, (args) => {
        const id = args.path.replace(/^node:/, '');
        // The stand-in's own require() is of the real module.
        if (args.namespace === 'lazy-builtin') return { path: `node:${id}`, external: true };
        return { path: id, namespace: 'lazy-builtin' };
      });
      b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, ({ path: id }) => {
        if (id === 'process') return { contents: 'module.exports = globalThis.process;\n', loader: 'js' };
        const getters = Object.keys(here(`node:${id}`))
          .map((k) => `  ${JSON.stringify(k)}: { enumerable: true, get: () => real()[${JSON.stringify(k)}] },`);
        const contents = [
          `// node:${id}, loaded on first use (scripts/bundle.mjs lazyBuiltins)`,
          'let loaded;',
          `const real = () => (loaded ??= require('node:${id}'));`,
          'module.exports = Object.defineProperties({}, {',
          ...getters,
          '});',
          '',
        ].join('\n');
        return { contents, loader: 'js' };
      });
    },
  };
}

/**
 * @param {{entry: string, outfile: string, format?: 'esm'|'cjs', absoluteExternals?: boolean,
 *          minify?: boolean, externals?: string[], lazyBuiltins?: boolean}} opts
 * @returns {Promise<{outfile: string, bytes: number, ms: number}>}
 */
export async function bundle(opts) {
  const format = opts.format ?? 'esm';
  const externals = opts.externals ?? EXTERNALS;
  const requireFromRoot = createRequire(resolve(PROJECT_ROOT, 'package.json'));
  const plugins = opts.lazyBuiltins === false ? [] : [lazyBuiltins()];
  if (opts.absoluteExternals) {
    const filter = new RegExp(`^(${externals.map((e) => e.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})(/.*)?$`);
    plugins.push({
      name: 'absolute-externals',
      setup(b) {
        b.onResolve({ filter }, (args) => ({ path: requireFromRoot.resolve(args.path), external: true }));
      },
    });
  }
  const { version } = JSON.parse(readFileSync(resolve(PROJECT_ROOT, 'package.json'), 'utf8'));
  const t0 = performance.now();
  const result = await build({
    entryPoints: [resolve(opts.entry)],
    outfile: resolve(opts.outfile),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format,
    external: opts.absoluteExternals ? [] : externals,
    plugins,
    minify: opts.minify ?? false,
    sourcemap: false,
    legalComments: 'none',
    metafile: true,
    // In a CommonJS bundle import.meta.url is the script's own file URL.
    define: { __GMEMTEST_VERSION__: JSON.stringify(version), ...(format === 'cjs' ? { 'import.meta.url': '__gmemtestUrl' } : {}) },
    logLevel: 'warning',
    // CommonJS dependencies bundled into an ES module still call require()
    // for Node built-ins; give them a real one.
    banner:
      format === 'esm'
        ? { js: "import { createRequire as __gmemtestCreateRequire } from 'node:module';\nconst require = __gmemtestCreateRequire(import.meta.url);" }
        : { js: "const __gmemtestUrl = require('node:url').pathToFileURL(__filename).href;" },
  });
  const out = Object.entries(result.metafile.outputs)[0];
  return { outfile: resolve(opts.outfile), bytes: out ? out[1].bytes : 0, ms: performance.now() - t0 };
}

/**
 * The mark the program leaves on globalThis when it has run the whole suite (every case of
 * the unfiltered plan, to its end: src/cli/code-cache-mark.ts): only then is the run's cache
 * worth writing, as it holds the functions every case uses.
 */
export const WHOLE_RUN_MARK = 'gmemtest.wholeSuiteRun';

/**
 * The loader that dist/bundle/gmemtest.mjs is: it compiles `program` (a CommonJS bundle
 * beside it) as Node's CommonJS loader would, but through vm.Script with V8's code cache:
 *   <program>.<hash>.<v8 version>-<arch>.run.v8cache      written at the end of a whole
 *       run of the suite (the program's mark, exit 0 or 1) when there was no usable one and
 *       the directory is writable (a checkout, an npm install; not a guest's read-only 9p
 *       root, which reads the host's): the functions that run used
 *   <program>.<hash>.<v8 version>-<arch>.startup.v8cache  written by the build (`--version`):
 *       the start-up's functions, used until a run's cache exists
 * `hash` is the program's sha256 (from the build), so a cache never meets another
 * program; V8 itself refuses one of another V8 or other flags (it is then written again).
 * Only this machine's own gmemtest runs write a cache, never a guest.
 * GMEMTEST_V8CACHE=off reads and writes none; =startup writes the start-up cache;
 * GMEMTEST_V8CACHE_DEBUG=1 says on stderr which cache was used and written.
 */
export function loaderSource(program, hash) {
  return `// Written by scripts/bundle.mjs: the loader of ${program} (see loaderSource there).
import { accessSync, constants, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

const here = dirname(fileURLToPath(import.meta.url));
const program = join(here, ${JSON.stringify(program)});
const mode = process.env.GMEMTEST_V8CACHE ?? '';
const debug = process.env.GMEMTEST_V8CACHE_DEBUG ? (m) => process.stderr.write(\`gmemtest: v8cache: \${m}\\n\`) : () => {};
const cacheFile = (kind) => join(here, \`${program}.${hash}.\${process.versions.v8}-\${process.arch}.\${kind}.v8cache\`);
const read = (kind) => {
  if (mode === 'off') return undefined;
  try {
    return readFileSync(cacheFile(kind));
  } catch {
    return undefined;
  }
};
let kind = 'run';
let cachedData = read('run');
if (cachedData === undefined) {
  kind = 'startup';
  cachedData = read('startup');
}
const source = readFileSync(program, 'utf8');
const script = new Script(\`(function (exports, require, module, __filename, __dirname) {\\n\${source}\\n})\`,
  { filename: program, lineOffset: -1, cachedData });
const used = cachedData !== undefined && !script.cachedDataRejected ? kind : null;
debug(cachedData === undefined ? 'none' : used ? \`used the \${kind} cache\` : \`the \${kind} cache was refused\`);
const write = mode === 'startup' ? 'startup' : mode !== 'off' && used !== 'run' ? 'run' : null;
let writable = false;
if (write !== null) {
  try {
    accessSync(here, constants.W_OK);
    writable = true;
  } catch {
    // a read-only install (a guest's 9p root): nothing to write
  }
}
if (writable) {
  process.once('exit', (code) => {
    if (write === 'run' && (globalThis[Symbol.for(${JSON.stringify(WHOLE_RUN_MARK)})] !== true || (code !== 0 && code !== 1))) return;
    const file = cacheFile(write);
    const tmp = \`\${file}.\${process.pid}.tmp\`;
    try {
      writeFileSync(tmp, script.createCachedData());
      renameSync(tmp, file);
      debug(\`wrote the \${write} cache\`);
    } catch (e) {
      rmSync(tmp, { force: true });
      debug(\`could not write the \${write} cache: \${e.message}\`);
    }
  });
}
const module = { exports: {} };
script.runInThisContext()(module.exports, createRequire(program), module, program, here);
`;
}

/**
 * The product: `entry` as the CommonJS program `<outfile minus .mjs>.cjs`, the loader as
 * `outfile`, and the start-up code cache (one `--version` run of the loader).
 */
export async function bundleProduct(opts) {
  const outfile = resolve(opts.outfile);
  const programFile = outfile.replace(/\.mjs$/, '') + '.cjs';
  const r = await bundle({ ...opts, outfile: programFile, format: 'cjs' });
  const hash = createHash('sha256').update(readFileSync(programFile)).digest('hex').slice(0, 16);
  writeFileSync(outfile, loaderSource(basename(programFile), hash));
  const t = spawnSync(process.execPath, [outfile, '--version'], { env: { ...process.env, GMEMTEST_V8CACHE: 'startup' }, encoding: 'utf8' });
  if (t.status !== 0) throw new Error(`the bundle does not run (node ${outfile} --version): ${t.stderr}`);
  return { ...r, outfile, program: programFile };
}

function parseArgs(argv) {
  const o = { entry: undefined, outfile: undefined, format: 'esm', absoluteExternals: false, minify: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--entry') o.entry = val();
    else if (a === '--outfile') o.outfile = val();
    else if (a === '--format') {
      o.format = val();
      if (o.format !== 'esm' && o.format !== 'cjs') throw new Error('--format is esm or cjs');
    } else if (a === '--absolute-externals') o.absoluteExternals = true;
    else if (a === '--minify') o.minify = true;
    else throw new Error(`unknown argument ${a}`);
  }
  return o;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const o = parseArgs(process.argv.slice(2));
    if (o.entry === undefined && o.outfile === undefined) {
      const r = await bundleProduct({ ...o, ...DEFAULT_BUNDLE });
      console.log(`${r.program}: ${r.bytes} bytes in ${r.ms.toFixed(0)} ms; loader ${r.outfile}`);
    } else {
      const r = await bundle({ ...o, entry: o.entry ?? DEFAULT_BUNDLE.entry, outfile: o.outfile ?? DEFAULT_BUNDLE.outfile });
      console.log(`${r.outfile}: ${r.bytes} bytes in ${r.ms.toFixed(0)} ms`);
    }
  } catch (e) {
    console.error(`bundle: ${e instanceof Error ? e.message : e}`);
    process.exit(1);
  }
}
