/**
 * `gmemtest boot`'s report, as a pure function of the BootResult: the guest's
 * KTAP nested one level down as a subtest named for the kernel release, or a
 * `not ok` with the failure kind and the last console lines.
 */
import type { BootResult } from '../boot/boot-and-run.js';
import { diagLines, indent, planLine, resultLine, subtestLine, totalsLine, versionLine } from '../ktap/writer.js';
import { emptyTotals, type Totals } from '../runner/outcome.js';
import { EXIT_FAIL, EXIT_PASS, EXIT_SKIP, EXIT_USAGE } from './exit-codes.js';

/** Test names use [a-z0-9_-] (dots separate ids): "7.2.13+deb14-amd64" → "linux-7_2_13-deb14-amd64". */
export function releaseTestName(release: string | undefined, kernelPath: string): string {
  const base = release !== undefined && release !== '' ? `linux-${release}` : (kernelPath.split('/').pop() ?? 'kernel');
  const name = base.toLowerCase().replace(/\./g, '_').replace(/[^a-z0-9_-]/g, '-').replace(/^[-_]+|[-_]+$/g, '');
  return name === '' ? 'kernel' : name;
}

export interface BootReport {
  /** The rest of the KTAP document, after the header that was already written. */
  text: string;
  exitCode: number;
  totals: Totals;
  /** One line for stderr, when the exit code needs explaining (a usage error in the guest). */
  stderr?: string;
}

const TOTALS = /^# Totals: (.*)$/;
const SKIP_ALL = /^1\.\.0(?:\s*#\s*SKIP\b\s*(.*))?$/i;
/** Console lines given with a failure. */
export const CONSOLE_LINES = 20;

function parseTotals(spec: string): Totals | undefined {
  const t = emptyTotals();
  let seen = 0;
  for (const kv of spec.trim().split(/\s+/)) {
    const m = /^(pass|fail|xfail|xpass|skip|error):(\d+)$/.exec(kv);
    if (m) { t[m[1] as keyof Totals] = Number(m[2]); seen++; }
  }
  return seen > 0 ? t : undefined;
}

const ms = (n: number | undefined): string => (n === undefined ? '-' : `${(n / 1000).toFixed(1)} s`);

/** `# ` lines on where the time went (depth 0, after the result). */
export function timingLines(r: BootResult): string[] {
  const t = r.timings;
  const parts = [`prep ${ms(t.prepMs)}`, `kernel to /init ${ms(t.initMs)}`, `command started ${ms(t.commandStartMs)}`];
  if (t.commandGuestMs !== undefined) parts.push(`guest command ${ms(t.commandGuestMs)}`);
  parts.push(`QEMU ${ms(t.qemuMs)}`);
  return diagLines(0, `boot ${r.release ?? 'unknown release'}, accel ${r.accel}: ${parts.join(', ')}`);
}

function consoleDiag(r: BootResult, depth: number, lines = CONSOLE_LINES): string[] {
  const tail = r.consoleTail.filter((l) => l.trim() !== '').slice(-lines);
  if (tail.length === 0) return diagLines(depth, 'console: (no output)');
  return [...diagLines(depth, `console, last ${tail.length} lines:`), ...tail.flatMap((l) => diagLines(depth, `  ${l.replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '')}`))];
}

/**
 * Nests the guest's KTAP: every line two spaces in, `# Subtest: <name>` after
 * its version line, its `# Totals:` taken out (folded into the outer one), a
 * `Bail out!` kept as a diagnostic. Returns the lines and what was found.
 */
function nestGuest(stdout: string, name: string): { lines: string[]; totals?: Totals; skipAll?: string; bailOut?: string; ktap: boolean } {
  const src = stdout.replace(/\n$/, '').split('\n');
  const ktap = src[0] === 'KTAP version 1';
  const lines: string[] = [];
  let totals: Totals | undefined;
  let skipAll: string | undefined;
  let bailOut: string | undefined;
  if (!ktap) return { lines, ktap };
  lines.push(versionLine(1), subtestLine(1, name));
  for (const l of src.slice(1)) {
    const tm = TOTALS.exec(l);
    if (tm) { totals = parseTotals(tm[1]!) ?? totals; continue; }
    const sk = SKIP_ALL.exec(l);
    if (sk) skipAll = (sk[1] ?? '').trim();
    if (/^\s*Bail out!/.test(l)) {
      const m = /^(\s*)Bail out!\s*(.*)$/.exec(l)!;
      bailOut ??= m[2]!;
      lines.push(`${indent(1)}${m[1]}# Bail out! ${m[2]}`.trimEnd());
      continue;
    }
    lines.push(l === '' ? '' : `${indent(1)}${l}`);
  }
  return { lines: lines.filter((l) => l !== ''), totals, skipAll, bailOut, ktap };
}

/**
 * The report after the header (which ends in `1..1`): one top-level test.
 * Exit codes: the guest's 0/1/4 pass through; its usage error (2) is 2; a guest
 * that bailed out, crashed or printed no KTAP, and every boot failure, is 1.
 */
export function bootReport(r: BootResult, kernelPath: string): BootReport {
  const name = releaseTestName(r.release, kernelPath);
  const out: string[] = [];
  const totals = emptyTotals();

  if (!r.ok) {
    out.push(...diagLines(0, `${r.failure}: ${r.message}`), ...consoleDiag(r, 0));
    out.push(r.failure === 'timeout'
      ? resultLine(0, false, 1, name, 'TIMEOUT', r.message)
      : resultLine(0, false, 1, name, 'ERROR', r.failure));
    totals.error = 1;
    out.push(...timingLines(r), totalsLine(totals));
    return { text: `${out.join('\n')}\n`, exitCode: EXIT_FAIL, totals };
  }

  const g = nestGuest(r.stdout, name);
  out.push(...g.lines);
  Object.assign(totals, g.totals ?? {});
  const code = r.exitCode;
  let exitCode: number;
  let line: string;
  let stderr: string | undefined;
  if (!g.ktap) {
    const so = r.stdout.replace(/\n$/, '');
    if (so !== '') out.push(...diagLines(0, 'guest stdout:'), ...so.split('\n').slice(-CONSOLE_LINES).flatMap((l) => diagLines(0, `  ${l}`)));
    out.push(...consoleDiag(r, 0));
    if (code === EXIT_USAGE) {
      stderr = 'gmemtest boot: the guest\'s gmemtest rejected its arguments (exit 2); see the console lines on stdout';
      line = resultLine(0, false, 1, name, 'ERROR', 'guest gmemtest: usage error (exit 2)');
      exitCode = EXIT_USAGE;
    } else {
      line = resultLine(0, false, 1, name, 'ERROR', `guest gmemtest exited with ${code} without KTAP output`);
      exitCode = EXIT_FAIL;
    }
    totals.error += 1;
  } else if (g.bailOut !== undefined) {
    out.push(...consoleDiag(r, 0));
    line = resultLine(0, false, 1, name, 'ERROR', `guest bailed out: ${g.bailOut}`);
    totals.error += 1;
    exitCode = EXIT_FAIL;
  } else if (code === EXIT_PASS) {
    line = resultLine(0, true, 1, name);
    exitCode = EXIT_PASS;
  } else if (code === EXIT_FAIL) {
    line = resultLine(0, false, 1, name);
    exitCode = EXIT_FAIL;
  } else if (code === EXIT_SKIP) {
    line = resultLine(0, true, 1, name, 'SKIP', g.skipAll || 'every guest case skipped');
    if (g.totals === undefined) totals.skip += 1;
    exitCode = EXIT_SKIP;
  } else {
    out.push(...consoleDiag(r, 0));
    line = resultLine(0, false, 1, name, 'ERROR', `guest gmemtest exited with ${code}`);
    totals.error += 1;
    exitCode = EXIT_FAIL;
  }
  out.push(line, ...timingLines(r), totalsLine(totals));
  return { text: `${out.join('\n')}\n`, exitCode, totals, ...(stderr ? { stderr } : {}) };
}

export interface BootHeaderInfo {
  version: string;
  kernel: string;
  release?: string;
  modules?: string;
  /** --kvm-modules: the dir whose kvm*.ko replace the kernel's own. */
  kvmModules?: string;
  accel: string;
  cpus: number;
  memoryMiB: number;
  numa: number;
  timeoutSec: number;
  guestArgv: readonly string[];
}

/** The document's start, written before the boot: version line, `# ` header, plan 1..1. */
export function bootHeader(h: BootHeaderInfo): string {
  const lines = [
    versionLine(0),
    ...diagLines(0, `gmemtest ${h.version} boot: kernel ${h.kernel} (release ${h.release ?? 'unknown'}), modules ${h.modules ?? 'looked up next to the kernel'}`),
    ...(h.kvmModules === undefined ? [] : diagLines(0, `kvm modules: ${h.kvmModules} (in place of the kernel's own, for this boot)`)),
    ...diagLines(0, `accel: ${h.accel}; ${h.cpus} vCPUs, ${h.memoryMiB} MiB, ${h.numa} NUMA node${h.numa === 1 ? '' : 's'}, timeout ${h.timeoutSec} s`),
    ...diagLines(0, `guest command: ${h.guestArgv.join(' ')}`),
    planLine(0, 1),
  ];
  return `${lines.join('\n')}\n`;
}
