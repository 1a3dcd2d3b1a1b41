// The port against the upstream of the kernel under test: reads the tree's
// guest_memfd_test.c (and set_memory_region_test.c) and names every test_* function,
// and every case that __test_guest_memfd(), test_guest_memfd() or main() calls, that the
// port's catalogue (src/cases/catalogue.ts) does not account for. Used by the kernel lab
// on its tree and by test/e2e/upstream-catalogue.test.ts on linux-source's.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CATALOGUE, type UpstreamFunction } from '../../src/cases/catalogue.js';

export const SELFTESTS_KVM = join('tools', 'testing', 'selftests', 'kvm');
export const UPSTREAM_FILES = ['guest_memfd_test.c', 'set_memory_region_test.c'] as const;

/** A definition's head: return type and qualifiers, the name, the parameters, the brace. */
const defHead = (name: string): RegExp =>
  new RegExp(`^(?:static\\s+)?(?:inline\\s+)?[a-z_][\\w \\t*]*?\\b(${name})\\s*\\(([^;{]*)\\)\\s*\\{`, 'gm');

/** Names of the functions defined at file scope whose name starts with test_ or __test_. */
export function definedTests(source: string): string[] {
  return [...new Set([...source.matchAll(defHead('_{0,2}test_\\w+'))].map((m) => m[1]!))];
}

/** The text between the braces of function `name`'s definition, or null. */
export function bodyOf(source: string, name: string): string | null {
  const head = defHead(name).exec(source);
  if (head === null) return null;
  let depth = 1;
  const start = head.index + head[0].length;
  for (let i = start; i < source.length; i++) {
    if (source[i] === '{') depth++;
    else if (source[i] === '}' && --depth === 0) return source.slice(start, i);
  }
  return null;
}

/**
 * The cases a driver body runs: direct test_*() calls and the names handed to upstream's
 * gmem_test()-family macros (`gmem_test(fallocate, vm, flags)` runs test_fallocate).
 */
export function calledTests(body: string): string[] {
  const out: string[] = [];
  for (const m of body.matchAll(/\b(_{0,2}test_\w+)\s*\(/g)) out.push(m[1]!);
  for (const m of body.matchAll(/\b_{0,4}gmem_test(?:_vm)?\s*\(\s*(\w+)\s*,/g)) out.push(`test_${m[1]!}`);
  return [...new Set(out)];
}

export interface Gap {
  readonly file: string;
  readonly name: string;
  readonly why: string;
}

const known = (file: UpstreamFunction['file']): Set<string> =>
  new Set(CATALOGUE.filter((f) => f.file === file).map((f) => f.name));

/** What guest_memfd_test.c has that the catalogue lacks, and catalogue entries the file no longer has. */
export function guestMemfdGaps(source: string): Gap[] {
  const file = 'guest_memfd_test.c';
  const ours = known(file);
  const gaps: Gap[] = [];
  const defined = definedTests(source);
  for (const name of defined) if (!ours.has(name)) gaps.push({ file, name, why: 'defined upstream, not in the port' });
  for (const driver of ['__test_guest_memfd', 'test_guest_memfd', 'main']) {
    const body = bodyOf(source, driver);
    if (body === null) {
      gaps.push({ file, name: driver, why: 'driver not found upstream' });
      continue;
    }
    for (const name of calledTests(body)) {
      if (!ours.has(name)) gaps.push({ file, name, why: `called by ${driver}(), not in the port` });
    }
  }
  for (const name of ours) if (!defined.includes(name)) gaps.push({ file, name, why: 'in the port, no longer upstream' });
  const seen = new Set<string>();
  return gaps.filter((g) => {
    if (seen.has(g.name)) return false;
    seen.add(g.name);
    return true;
  });
}

/**
 * set_memory_region_test.c: every test_* function whose body names KVM_MEM_GUEST_MEMFD
 * (the guest_memfd binding ABI) must be in the catalogue, and the catalogue's must exist.
 */
export function memslotGaps(source: string): Gap[] {
  const file = 'set_memory_region_test.c';
  const ours = known(file);
  const gaps: Gap[] = [];
  const defined = definedTests(source);
  for (const name of defined) {
    if (!ours.has(name) && (bodyOf(source, name) ?? '').includes('KVM_MEM_GUEST_MEMFD')) {
      gaps.push({ file, name, why: 'binds guest_memfd upstream, not in the port' });
    }
  }
  for (const name of ours) if (!defined.includes(name)) gaps.push({ file, name, why: 'in the port, no longer upstream' });
  return gaps;
}

/** Both files of a kernel tree; one line per gap, empty when the port covers them. */
export function upstreamGaps(tree: string): string[] {
  const read = (f: string): string => readFileSync(join(tree, SELFTESTS_KVM, f), 'utf8');
  return [...guestMemfdGaps(read('guest_memfd_test.c')), ...memslotGaps(read('set_memory_region_test.c'))]
    .map((g) => `${g.file}: ${g.name}: ${g.why}`);
}
