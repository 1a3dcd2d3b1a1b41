/**
 * The architecture this process runs on, chosen at run time (process.arch), and its part
 * of the uapi. An architecture Node runs on that gmemtest has no tables for is refused
 * at load: every number below would be wrong there.
 */
import type { ArchUapi } from './types.js';
import { arm64 } from './arm64/uapi.js';
import { x86_64 } from './x86_64/uapi.js';

export type { ArchUapi } from './types.js';

const BY_NODE_ARCH: Readonly<Record<string, ArchUapi>> = { x64: x86_64, arm64 };

function pick(): ArchUapi {
  const a = BY_NODE_ARCH[process.arch];
  if (!a) throw new Error(`gmemtest has no uapi tables for ${process.arch} (supported: x64, arm64)`);
  return a;
}

export const ARCH: ArchUapi = pick();
