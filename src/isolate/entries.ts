/**
 * The child programs gmemtest starts, named once for the runtime and for the bundler
 * (scripts/bundle.mjs reads CHILD_ENTRIES from the compiled dist/isolate/entries.js).
 *
 * Each entry is a compiled module under dist/ (`module`, without extension) and, in the
 * single-file build, its own bundle beside dist/bundle/gmemtest.mjs (`bundle`).
 * A child always runs compiled JavaScript: from the sources (tsx, the project's tests) it
 * is the dist/ copy that `npm run build` wrote.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface ChildEntry {
  /** Path of the compiled module below dist/, without extension. */
  readonly module: string;
  /** File name of its bundle in dist/bundle/. */
  readonly bundle: string;
}

export const CHILD_ENTRIES = {
  /** The faulting access of fault_overflow / fault_private (isolate/fault-probe-child.ts). */
  faultProbe: { module: 'isolate/fault-probe-child', bundle: 'fault-probe-child.mjs' },
  /** guest_memfd_guest's vCPU (cases/guest-child.ts). */
  vcpu: { module: 'cases/guest-child', bundle: 'guest-child.js' },
} as const satisfies Record<string, ChildEntry>;

export type ChildEntryName = keyof typeof CHILD_ENTRIES;

/**
 * Where `name`'s program is, relative to the module that asks (`from`, an
 * import.meta.url): the bundle's sibling when running bundled, else the dist/ module.
 */
export function childEntryPath(name: ChildEntryName, from: string = import.meta.url): string {
  const e = CHILD_ENTRIES[name];
  const here = fileURLToPath(from);
  const candidates = /[/\\]bundle[/\\][^/\\]+\.mjs$/.test(here)
    ? [fileURLToPath(new URL(`./${e.bundle}`, from))]
    : [fileURLToPath(new URL(`../${e.module}.js`, from)), fileURLToPath(new URL(`../../dist/${e.module}.js`, from))];
  const found = candidates.find((c) => existsSync(c));
  if (found === undefined) throw new Error(`child program ${name} not found (looked for ${candidates.join(' and ')}; run npm run build)`);
  return found;
}
