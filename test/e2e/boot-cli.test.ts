// `gmemtest boot` argument handling, without booting anything: usage errors exit 2
// with one stderr line, a host without QEMU (or a static busybox) is a KTAP skip-all
// with exit 4. The real boots are `npm run test:kernels`.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { checkGuestArgs, memoryArg, missingTools } from '../../src/cli/boot-command.js';
import { cleanEnv, gmemtest } from '../helpers/kvm.js';

const MAIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const FILE = fileURLToPath(new URL('../../package.json', import.meta.url)); // an existing regular file

t.test('usage errors: exit 2, one clear stderr line, nothing on stdout', async (t) => {
  const cases: [string[], RegExp][] = [
    [['boot'], /required option '--kernel <path>'/],
    [['boot', '--kernel', '/nonexistent'], /^gmemtest: --kernel \/nonexistent: no such file\n$/],
    [['boot', '--kernel', '/'], /not a regular file/],
    [['boot', '--kernel', FILE, '--modules', '/nonexistent'], /--modules \/nonexistent: no such directory/],
    [['boot', '--kernel', FILE, '--numa', '0'], /--numa <n>.*'0' is invalid/],
    [['boot', '--kernel', FILE, '--numa', 'two'], /--numa <n>.*'two' is invalid/],
    [['boot', '--kernel', FILE, '--cpus', '0'], /--cpus <n>.*invalid/],
    [['boot', '--kernel', FILE, '--cpus', '1.5'], /--cpus <n>.*invalid/],
    [['boot', '--kernel', FILE, '--memory', '3X'], /--memory <size>.*invalid/],
    [['boot', '--kernel', FILE, '--memory', '16M'], /--memory <size>.*invalid/],
    [['boot', '--kernel', FILE, '--memory', '512M', '--numa', '8'], /too little for 8 NUMA nodes/],
    [['boot', '--kernel', FILE, '--timeout', '0'], /--timeout <s>.*invalid/],
    [['boot', '--kernel', FILE, '--timeout', '-5'], /--timeout/],
    [['boot', '--kernel', FILE, '--accel', 'hvf'], /--accel <accel>.*invalid/],
    [['boot', '--kernel', FILE, '--', '--format', 'json'], /--format json cannot be given after --/],
    [['boot', '--kernel', FILE, '--format', 'ktap-flat', '--', '--format', 'ktap'], /--format ktap cannot be given after --/],
    [['boot', '--kernel', FILE, '--', '--list'], /--list cannot be given after --/],
    [['boot', '--kernel', FILE, '--format', 'json'], /argument 'json' is invalid\. Allowed choices are ktap, ktap-flat/],
    [['boot', '--kernel', FILE, '--', 'caps'], /'caps' cannot be given after --/],
  ];
  for (const [args, err] of cases) {
    const r = gmemtest(args);
    t.equal(r.status, 2, `${args.join(' ')}: exit 2`);
    t.match(r.stderr, err, `${args.join(' ')}: stderr`);
    t.equal(r.stderr.trim().split('\n').length, 1, `${args.join(' ')}: one stderr line`);
    t.equal(r.stdout, '', `${args.join(' ')}: no stdout`);
  }
});

t.test('no qemu-system-x86_64 on PATH: KTAP skip-all, exit 4', async (t) => {
  const empty = mkdtempSync(join(tmpdir(), 'gmemtest-nopath-'));
  const r = spawnSync(process.execPath, [MAIN, 'boot', '--kernel', FILE, '--numa', '2'], {
    encoding: 'utf8', env: cleanEnv({ PATH: empty }), timeout: 60_000,
  });
  t.equal(r.status, 4);
  t.equal(r.stdout, 'KTAP version 1\n1..1\nok 1 boot # SKIP qemu-system-x86_64 not installed (Debian package qemu-system-x86)\n' +
    '# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:1 error:0\n');
  t.equal(r.stderr, '');
});

t.test('arm64: no qemu-system-aarch64 on PATH: KTAP skip-all, exit 4; an --arch the image contradicts: usage error', async (t) => {
  const dir = t.testdir();
  const image = Buffer.alloc(4096);
  image.writeUInt32LE(0x644d5241, 56);
  writeFileSync(join(dir, 'Image'), image);
  const empty = mkdtempSync(join(tmpdir(), 'gmemtest-nopath-'));
  for (const args of [['--kernel', join(dir, 'Image')], ['--kernel', FILE, '--arch', 'arm64']]) {
    const r = spawnSync(process.execPath, [MAIN, 'boot', ...args, '--numa', '2'], {
      encoding: 'utf8', env: cleanEnv({ PATH: empty }), timeout: 60_000,
    });
    t.equal(r.status, 4, `${args.join(' ')}: exit 4`);
    t.equal(r.stdout, 'KTAP version 1\n1..1\nok 1 boot # SKIP qemu-system-aarch64 not installed (Debian package qemu-system-arm)\n' +
      '# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:1 error:0\n');
    t.equal(r.stderr, '');
  }
  const bz = Buffer.alloc(4096);
  bz.write('HdrS', 0x202, 'latin1');
  writeFileSync(join(dir, 'bzImage'), bz);
  const r = gmemtest(['boot', '--kernel', join(dir, 'bzImage'), '--arch', 'arm64']);
  t.equal(r.status, 2);
  t.match(r.stderr, /^gmemtest: --arch arm64: .*bzImage is an x86_64 kernel image\n$/);
  t.match(gmemtest(['boot', '--kernel', FILE, '--arch', 'riscv64']).stderr, /--arch <arch>.*Allowed choices are x86_64, arm64/);
});

t.test('missingTools and the argument checks, in process', async (t) => {
  const saved = process.env.PATH;
  try {
    process.env.PATH = '';
    t.match(missingTools(), /^qemu-system-x86_64 not installed/);
    t.equal(missingTools(undefined, 'arm64'), 'qemu-system-aarch64 not installed (Debian package qemu-system-arm)');
  } finally {
    process.env.PATH = saved;
  }
  if (missingTools('/bin/busybox') === null) {
    t.match(missingTools(FILE), /^busybox-static not installed/, 'a non-ELF busybox');
    t.match(missingTools('/nonexistent/busybox'), /^busybox-static not installed/);
  }
  t.equal(memoryArg('2G'), '2G');
  t.throws(() => memoryArg('0'));
  t.doesNotThrow(() => checkGuestArgs(['--filter', 'default_vm.*', '--matrix', 'upstream', '--format', 'ktap', '--format=ktap']));
  t.throws(() => checkGuestArgs(['--format=pretty']), /--format pretty/);
  t.throws(() => checkGuestArgs(['-V']));
});
