import type { ElfMachine } from './elf.js';

/** The machine the running Node process executes (the one native code is generated for). */
export function hostMachine(): ElfMachine {
  if (process.arch === 'x64') return 'x86_64';
  if (process.arch === 'arm64') return 'aarch64';
  throw new Error(`no native code for ${process.arch}`);
}

/**
 * The page size generated ELF files are laid out for, per machine: x86-64 has 4 KiB
 * pages; arm64 kernels have 4, 16 or 64 KiB, and a file laid out for 64 KiB loads on all.
 */
export const LOAD_PAGE: Readonly<Record<ElfMachine, number>> = { x86_64: 0x1000, aarch64: 0x10000 };
