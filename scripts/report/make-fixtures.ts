// Regenerates test/report/fixtures/: real results of this host and of real kernels
// booted under QEMU, the inputs the report's tests read.
//
//   host.json, host.ktap           bin/gmemtest --format json / ktap on this host
//   host-upstream-xfail.json       bin/gmemtest --format json --matrix upstream --xfail fixtures/xfail-kvm-pvm.txt
//   boot-sid.ktap, boot-trixie.ktap   bin/gmemtest boot --numa 2 on Debian's sid and trixie kernels
//   boot-timeout.ktap              bin/gmemtest boot --timeout 4 (QEMU killed before the guest is done)
//   guest-sid.json                 gmemtest --format json run inside the sid kernel (bootAndRun directly:
//                                  `gmemtest boot` re-emits KTAP only)
//
// Needs /dev/kvm, the kernels of scripts/kernels/fetch.sh (~/.cache/gmemtest/kernels) and
// `npm run build`. One boot at a time. Usage: npx tsx scripts/report/make-fixtures.ts
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bootAndRun } from '../../src/boot/boot-and-run.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const OUT = join(ROOT, 'test/report/fixtures');
const KERNELS = join(process.env.HOME ?? homedir(), '.cache/gmemtest/kernels');
const GMEMTEST = join(ROOT, 'bin/gmemtest');

function gmemtest(file: string, args: string[]): void {
  const r = spawnSync(GMEMTEST, args, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  writeFileSync(join(OUT, file), r.stdout);
  console.log(`${file}: gmemtest ${args.join(' ')} -> exit ${r.status}`);
}

/** The unpacked Debian kernel of a release prefix: vmlinuz and modules dir. */
function kernel(prefix: string): { vmlinuz: string; modules: string } {
  const pkg = readdirSync(KERNELS).find((d) => d.startsWith(`linux-image-${prefix}`));
  if (pkg === undefined) throw new Error(`no linux-image-${prefix}* in ${KERNELS} (run scripts/kernels/fetch.sh)`);
  const mods = join(KERNELS, pkg, 'root/usr/lib/modules');
  const release = readdirSync(mods)[0]!;
  const vmlinuz = [join(mods, release, 'vmlinuz'), join(KERNELS, pkg, 'root/boot', `vmlinuz-${release}`)].find((p) => existsSync(p))!;
  return { vmlinuz, modules: join(mods, release) };
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  gmemtest('host.json', ['--format', 'json']);
  gmemtest('host.ktap', []);
  gmemtest('host-upstream-xfail.json', ['--format', 'json', '--matrix', 'upstream', '--xfail', 'fixtures/xfail-kvm-pvm.txt']);
  const sid = kernel('7.');
  const trixie = kernel('6.12');
  gmemtest('boot-sid.ktap', ['boot', '--kernel', sid.vmlinuz, '--modules', sid.modules, '--numa', '2']);
  gmemtest('boot-trixie.ktap', ['boot', '--kernel', trixie.vmlinuz, '--modules', trixie.modules, '--numa', '2']);
  gmemtest('boot-timeout.ktap', ['boot', '--kernel', sid.vmlinuz, '--modules', sid.modules, '--timeout', '4']);
  const r = await bootAndRun({
    kernel: sid.vmlinuz, modules: sid.modules, numa: 2, cwd: ROOT, env: { NO_COLOR: '1' },
    command: [process.execPath, join(ROOT, 'dist/bundle/gmemtest.mjs'), '--format', 'json'],
  });
  if (!r.ok) throw new Error(`guest-sid.json: the boot failed: ${r.failure}: ${r.message}`);
  writeFileSync(join(OUT, 'guest-sid.json'), r.stdout);
  console.log(`guest-sid.json: gmemtest --format json in ${r.release} -> exit ${r.exitCode}`);
}

main().catch((e: unknown) => {
  console.error(`make-fixtures: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
});
