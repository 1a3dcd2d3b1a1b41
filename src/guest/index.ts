/** The guest builder of the architecture this process runs on (the same choice as kvm/arch). */
import { ARCH } from '../kvm/arch/index.js';
import type { GuestArch } from './types.js';
import { arm64Guest } from './arm64/guest.js';
import { x86_64Guest } from './x86_64/guest.js';

export type { Guest, GuestArch, GuestStop, Ucall } from './types.js';

const BY_ARCH: Readonly<Record<string, GuestArch>> = { x86_64: x86_64Guest, arm64: arm64Guest };

function pick(): GuestArch {
  const g = BY_ARCH[ARCH.name];
  if (!g) throw new Error(`gmemtest has no vCPU guest for ${ARCH.name}`);
  return g;
}

export const GUEST: GuestArch = pick();
