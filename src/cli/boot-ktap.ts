/**
 * `gmemtest boot`'s report, as a pure function of the BootResult: the guest's
 * KTAP nested one level down as a subtest named for the kernel release, or a
 * `not ok` with the failure kind and the last console lines.
 */
import type { BootCompleted, BootFailed, BootResult } from '../boot/boot-and-run.js';
import { diagLines, indent, planLine, resultLine, subtestLine, versionLine } from '../ktap/writer.js';
import { readKtap } from '../ktap/reader.js';
import { emptyTotals, totalsLine, type Totals } from '../ktap/totals.js';
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

/** Console lines given with a failure. */
export const CONSOLE_LINES = 20;

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
  const doc = readKtap(stdout);
  if (!doc.ktap) return { lines: [], ktap: false };
  const lines = [versionLine(1), subtestLine(1, name)];
  for (const l of doc.lines.slice(1)) {
    if (l.kind === 'totals' || l.kind === 'blank') continue;
    if (l.kind === 'bailout') lines.push(`${indent(1 + l.depth)}# Bail out! ${l.reason}`.trimEnd());
    else lines.push(`${indent(1)}${l.raw}`);
  }
  return {
    lines, ktap: true,
    ...(doc.totals ? { totals: doc.totals } : {}),
    ...(doc.skipAll !== null ? { skipAll: doc.skipAll } : {}),
    ...(doc.bailOut !== null ? { bailOut: doc.bailOut } : {}),
  };
}

/**
 * The report after the header (which ends in `1..1`): one top-level test.
 * Exit codes: the guest's 0/1/4 pass through; its usage error (2) is 2; a guest
 * that bailed out, crashed or printed no KTAP, and every boot failure, is 1.
 */
export function bootReport(r: BootResult, kernelPath: string): BootReport {
  const name = releaseTestName(r.release, kernelPath);
  return r.ok ? completedReport(r, name) : failedBootReport(r, name);
}

/** The boot itself failed: one `not ok` with the kind, the console's last lines, the timings. */
function failedBootReport(r: BootFailed, name: string): BootReport {
  const totals = emptyTotals();
  totals.error = 1;
  const out = [
    ...diagLines(0, `${r.failure}: ${r.message}`), ...consoleDiag(r, 0),
    r.failure === 'timeout' ? resultLine(0, false, 1, name, 'TIMEOUT', r.message) : resultLine(0, false, 1, name, 'ERROR', r.failure),
    ...timingLines(r), totalsLine(totals),
  ];
  return { text: `${out.join('\n')}\n`, exitCode: EXIT_FAIL, totals };
}

/** The guest's command ran: its KTAP nested, and a verdict from its KTAP and exit code. */
function completedReport(r: BootCompleted, name: string): BootReport {
  const g = nestGuest(r.stdout, name);
  const totals = { ...emptyTotals(), ...(g.totals ?? {}) };
  const v = g.ktap ? ktapVerdict(r, g, name) : noKtapVerdict(r, name);
  if (v.error) totals.error += 1;
  if (v.skipWithoutTotals && g.totals === undefined) totals.skip += 1;
  const out = [...g.lines, ...v.diagnostics, v.line, ...timingLines(r), totalsLine(totals)];
  return { text: `${out.join('\n')}\n`, exitCode: v.exitCode, totals, ...(v.stderr ? { stderr: v.stderr } : {}) };
}

interface Verdict {
  line: string;
  exitCode: number;
  diagnostics: string[];
  /** Counted as an error in the Totals. */
  error?: boolean;
  /** A skip-all guest without Totals counts one skip. */
  skipWithoutTotals?: boolean;
  stderr?: string;
}

/** The guest printed no KTAP: its stdout and the console as diagnostics, ERROR. */
function noKtapVerdict(r: BootCompleted, name: string): Verdict {
  const so = r.stdout.replace(/\n$/, '');
  const diagnostics = [
    ...(so !== '' ? [...diagLines(0, 'guest stdout:'), ...so.split('\n').slice(-CONSOLE_LINES).flatMap((l) => diagLines(0, `  ${l}`))] : []),
    ...consoleDiag(r, 0),
  ];
  if (r.exitCode === EXIT_USAGE) {
    return {
      line: resultLine(0, false, 1, name, 'ERROR', 'guest gmemtest: usage error (exit 2)'), exitCode: EXIT_USAGE, diagnostics, error: true,
      stderr: 'gmemtest boot: the guest\'s gmemtest rejected its arguments (exit 2); see the console lines on stdout',
    };
  }
  return { line: resultLine(0, false, 1, name, 'ERROR', `guest gmemtest exited with ${r.exitCode} without KTAP output`), exitCode: EXIT_FAIL, diagnostics, error: true };
}

/** The guest printed KTAP: its exit code passes through (0, 1, 4); a bail-out or another code is an ERROR. */
function ktapVerdict(r: BootCompleted, g: ReturnType<typeof nestGuest>, name: string): Verdict {
  const code = r.exitCode;
  if (g.bailOut !== undefined) {
    return { line: resultLine(0, false, 1, name, 'ERROR', `guest bailed out: ${g.bailOut}`), exitCode: EXIT_FAIL, diagnostics: consoleDiag(r, 0), error: true };
  }
  if (code === EXIT_PASS) return { line: resultLine(0, true, 1, name), exitCode: EXIT_PASS, diagnostics: [] };
  if (code === EXIT_FAIL) return { line: resultLine(0, false, 1, name), exitCode: EXIT_FAIL, diagnostics: [] };
  if (code === EXIT_SKIP) {
    return { line: resultLine(0, true, 1, name, 'SKIP', g.skipAll || 'every guest case skipped'), exitCode: EXIT_SKIP, diagnostics: [], skipWithoutTotals: true };
  }
  return { line: resultLine(0, false, 1, name, 'ERROR', `guest gmemtest exited with ${code}`), exitCode: EXIT_FAIL, diagnostics: consoleDiag(r, 0), error: true };
}

export interface BootHeaderInfo {
  version: string;
  kernel: string;
  release?: string;
  modules?: string;
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
    ...diagLines(0, `accel: ${h.accel}; ${h.cpus} vCPUs, ${h.memoryMiB} MiB, ${h.numa} NUMA node${h.numa === 1 ? '' : 's'}, timeout ${h.timeoutSec} s`),
    ...diagLines(0, `guest command: ${h.guestArgv.join(' ')}`),
    planLine(0, 1),
  ];
  return `${lines.join('\n')}\n`;
}
