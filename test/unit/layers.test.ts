// The layers of src/ and the one-way arrows between them (ARCHITECTURE.md), checked on
// the real import graph: every relative import of every module, read with TypeScript's
// own pre-processor, must point to the same folder or to one this folder may use; and
// no module may reach itself through its imports.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import ts from 'typescript';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/** Folder -> the folders its modules may import (besides their own). */
export const MAY_USE: Readonly<Record<string, readonly string[]>> = {
  cli: ['cases', 'runner', 'boot', 'ktap', 'kvm', 'isolate', 'report'],
  cases: ['runner', 'kvm', 'guest', 'isolate', 'native', 'asm'],
  runner: ['ktap'],
  report: ['runner', 'ktap'],
  boot: [],
  isolate: ['kvm', 'native'],
  guest: ['kvm', 'asm'],
  native: ['kvm', 'asm'],
  kvm: [],
  asm: [],
  ktap: [],
};

function modules(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? modules(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []);
}

const folderOf = (file: string): string => relative(SRC, file).split(/[/\\]/)[0]!;

function importsOf(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  return info.importedFiles.map((f) => f.fileName).filter((f) => f.startsWith('.'))
    .map((f) => resolve(dirname(file), f.replace(/\.js$/, '.ts')));
}

const files = modules(SRC);
const graph = new Map(files.map((f) => [f, importsOf(f)]));

t.test('every folder of src/ has a place in the layers', async (t) => {
  t.same([...new Set(files.map(folderOf))].filter((f) => !(f in MAY_USE)), []);
});

t.test('imports run one way between the layers', async (t) => {
  const bad: string[] = [];
  for (const [file, deps] of graph) {
    const from = folderOf(file);
    for (const d of deps) {
      const to = folderOf(d);
      if (to !== from && !MAY_USE[from]!.includes(to)) bad.push(`${relative(SRC, file)} -> ${relative(SRC, d)}`);
    }
  }
  t.same(bad, [], 'no import from a lower layer to a higher one');
});

t.test('every relative import resolves to a module of src/', async (t) => {
  const missing = [...graph].flatMap(([f, deps]) => deps.filter((d) => !graph.has(d)).map((d) => `${relative(SRC, f)} -> ${d}`));
  t.same(missing, []);
});

t.test('no module imports itself through others (no cycle)', async (t) => {
  const cycles: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (f: string): void => {
    state.set(f, 'open');
    stack.push(f);
    for (const d of graph.get(f) ?? []) {
      if (state.get(d) === 'open') cycles.push([...stack.slice(stack.indexOf(d)), d].map((x) => relative(SRC, x)).join(' -> '));
      else if (!state.has(d)) visit(d);
    }
    stack.pop();
    state.set(f, 'done');
  };
  for (const f of files) if (!state.has(f)) visit(f);
  t.same(cycles, []);
});
