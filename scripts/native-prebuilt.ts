// Regenerates src/native/prebuilt.ts: the generated machine code (access helper ELF,
// ioctl sweep code and shared object) as base64, so a run does not have to assemble it
// (under TCG, JIT-compiling the assembler costs ~0.5 s per run). test/unit/native-prebuilt.test.ts
// fails when the file is stale.   Usage: npx tsx scripts/native-prebuilt.ts [--check]
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderPrebuilt } from '../src/native/prebuilt-render.js';

const target = join(dirname(dirname(fileURLToPath(import.meta.url))), 'src', 'native', 'prebuilt.ts');
const text = renderPrebuilt();
if (process.argv.includes('--check')) {
  if (readFileSync(target, 'utf8') !== text) {
    console.error(`${target} is stale: run npx tsx scripts/native-prebuilt.ts`);
    process.exit(1);
  }
} else {
  writeFileSync(target, text);
  console.log(`wrote ${target}`);
}
