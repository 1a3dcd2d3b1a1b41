import type { ElfMachine } from './elf.js';

/** The machine the running Node process executes (the one native code is generated for). */
export function hostMachine(): ElfMachine {
  if (process.arch === 'x64') return 'x86_64';
  if (process.arch === 'arm64') return 'aarch64';
  throw new Error(`no native code for ${process.arch}`);
}
