/**
 * `gmemtest boot`'s report, as a pure function of the BootResult: the guest's
 * KTAP nested one level down as a subtest named for the kernel release, or a
 * `not ok` with the failure kind and the last console lines.
 */
import type { BootCompleted, BootFailed, BootResult } from '../boot/boot-and-run.js';
import { diagLines, indent, planLine, resultLine, subtestLine, versionLine } from '../ktap/writer.js';
import { readKtap, totalsOf } from '../ktap/reader.js';
import { emptyTotals, totalsLine, type Totals } from '../ktap/totals.js';
import { EXIT_FAIL, EXIT_PASS, EXIT_SKIP, EXIT_USAGE } from './exit-codes.js';
import { parseProgress } from './progress.js';

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
  // The guest gmemtest's progress lines (when a terminal watched the boot) say nothing here.
  const tail = r.consoleTail.filter((l) => l.trim() !== '' && parseProgress(l) === null).slice(-lines);
  if (tail.length === 0) return diagLines(depth, 'console: (no output)');
  return [...diagLines(depth, `console, last ${tail.length} lines:`), ...tail.flatMap((l) => diagLines(depth, `  ${l.replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '')}`))];
}

interface NestedGuest {
  lines: string[];
  totals?: Totals;
  /** The guest printed KTAP at all. */
  ktap: boolean;
  /** Why the guest's KTAP cannot be nested as it is (it stopped half-way, it bailed out). */
  incomplete?: string;
}

/**
 * Nests the guest's KTAP: every line two spaces in, `# Subtest: <name>` after its version
 * line, its `# Totals:` taken out (folded into the outer one). A document that is not
 * whole (a guest that died half-way leaves plans open) is not nested, which would make
 * the outer document invalid: its lines are kept as diagnostics instead.
 */
function nestGuest(stdout: string, name: string): NestedGuest {
  const doc = readKtap(stdout);
  if (!doc.ktap) return { lines: [], ktap: false };
  const totals = doc.totals ? { totals: doc.totals } : {};
  const incomplete = doc.bailOut !== null ? `it bailed out: ${doc.bailOut}` : doc.problems[0];
  if (incomplete !== undefined) {
    const raw = doc.lines.filter((l) => l.kind !== 'blank').map((l) => l.raw);
    return { lines: [...diagLines(0, 'guest KTAP (not whole):'), ...raw.flatMap((l) => diagLines(0, `  ${l}`))], ktap: true, incomplete, ...totals };
  }
  const lines = [versionLine(1), subtestLine(1, name)];
  for (const l of doc.lines.slice(1)) {
    if (l.kind !== 'totals' && l.kind !== 'blank') lines.push(`${indent(1)}${l.raw}`);
  }
  return { lines, ktap: true, ...totals };
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
  // A guest KTAP kept as diagnostics is not counted: the one test is the kernel's.
  const totals = { ...emptyTotals(), ...(g.incomplete === undefined ? g.totals ?? {} : {}) };
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

/** The guest printed KTAP: its exit code passes through (0, 1, 4); KTAP that is not whole or another code is an ERROR. */
function ktapVerdict(r: BootCompleted, g: NestedGuest, name: string): Verdict {
  const code = r.exitCode;
  if (g.incomplete !== undefined) {
    return { line: resultLine(0, false, 1, name, 'ERROR', `guest KTAP not whole (exit ${code}): ${g.incomplete}`), exitCode: EXIT_FAIL, diagnostics: consoleDiag(r, 0), error: true };
  }
  if (code === EXIT_PASS) return { line: resultLine(0, true, 1, name), exitCode: EXIT_PASS, diagnostics: [] };
  if (code === EXIT_FAIL) return { line: resultLine(0, false, 1, name), exitCode: EXIT_FAIL, diagnostics: [] };
  // Bare: the guest's own document says why each case skipped.
  if (code === EXIT_SKIP) return { line: resultLine(0, true, 1, name, 'SKIP'), exitCode: EXIT_SKIP, diagnostics: [], skipWithoutTotals: true };
  return { line: resultLine(0, false, 1, name, 'ERROR', `guest gmemtest exited with ${code}`), exitCode: EXIT_FAIL, diagnostics: consoleDiag(r, 0), error: true };
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
  /**
   * A guest that is not x86_64: its machine and the root it runs in, one more header
   * line (an x86_64 boot's header is as it always was).
   */
  machine?: { arch: string; qemu: string; board?: string; root: string; rootMs: number };
}

/**
 * The document's start, written before the boot: version line and `# ` header; then the
 * plan 1..1 of the nested form (the flat form's plan is the guest's, after the boot).
 */
export function bootHeader(h: BootHeaderInfo, flat = false): string {
  const lines = [
    versionLine(0),
    ...diagLines(0, `gmemtest ${h.version} boot: kernel ${h.kernel} (release ${h.release ?? 'unknown'}), modules ${h.modules ?? 'looked up next to the kernel'}`),
    ...(h.kvmModules === undefined ? [] : diagLines(0, `kvm modules: ${h.kvmModules} (in place of the kernel's own, for this boot)`)),
    ...diagLines(0, `accel: ${h.accel}; ${h.cpus} vCPUs, ${h.memoryMiB} MiB, ${h.numa} NUMA node${h.numa === 1 ? '' : 's'}, timeout ${h.timeoutSec} s`),
    ...(h.machine ? diagLines(0, `arch: ${h.machine.arch}, ${h.machine.qemu}${h.machine.board ? ` -M ${h.machine.board}` : ''}; ` +
      `guest root ${h.machine.root} (ready in ${(h.machine.rootMs / 1000).toFixed(1)} s)`) : []),
    ...diagLines(0, `guest command: ${h.guestArgv.join(' ')}`),
    ...(flat ? [] : [planLine(0, 1)]),
  ];
  return `${lines.join('\n')}\n`;
}

/** The name of the flat form's one result when the boot itself failed. */
export const BOOT_RESULT = 'boot';

/**
 * The flat form's rest: the guest's flat results as they are (the case ids of a host
 * run: the kernel is the job, named in the header, not part of a test's name), its header
 * lines as `# guest: ` lines, its Totals; a boot that failed, or a guest that printed no
 * KTAP, is one `not ok 1 boot # ERROR <kind>` with the console after it.
 */
export function bootReportFlat(r: BootResult): BootReport {
  const failed = (directive: 'ERROR' | 'TIMEOUT', reason: string, diagnostics: string[], exitCode = EXIT_FAIL): BootReport => {
    const totals = { ...emptyTotals(), error: 1 };
    const out = [planLine(0, 1), resultLine(0, false, 1, BOOT_RESULT, directive, reason), ...diagnostics, ...timingLines(r), totalsLine(totals)];
    return { text: `${out.join('\n')}\n`, exitCode, totals };
  };
  if (!r.ok) {
    return failed(r.failure === 'timeout' ? 'TIMEOUT' : 'ERROR', r.failure === 'timeout' ? r.message : r.failure,
      [...diagLines(0, `${r.failure}: ${r.message}`), ...consoleDiag(r, 0)]);
  }
  const doc = readKtap(r.stdout);
  if (!doc.ktap) {
    const usage = r.exitCode === EXIT_USAGE;
    return failed('ERROR', usage ? 'guest gmemtest: usage error (exit 2)' : `guest gmemtest exited with ${r.exitCode} without KTAP output`,
      consoleDiag(r, 0), usage ? EXIT_USAGE : EXIT_FAIL);
  }
  // A guest that stopped half-way, or ended with a code that means neither pass, fail nor
  // skip: its results so far, then one more saying so, under a plan that counts them.
  const known = [EXIT_PASS, EXIT_FAIL, EXIT_SKIP].includes(r.exitCode);
  const broken = doc.problems[0] ?? (doc.bailOut !== null ? `it bailed out: ${doc.bailOut}` : known ? undefined : `exit ${r.exitCode}`);
  const results = doc.lines.filter((l) => l.kind === 'result' && l.depth === 0).length;
  const out: string[] = [];
  let planSeen = false;
  for (const l of doc.lines.slice(1)) {
    if (l.kind === 'totals' || l.kind === 'blank' || l.kind === 'bailout') continue;
    if (l.kind === 'plan' && l.depth === 0) {
      planSeen = true;
      out.push(broken === undefined ? l.raw : planLine(0, results + 1));
    } else out.push(l.kind === 'diagnostic' && !planSeen ? `# guest: ${l.text}` : l.raw);
  }
  // Whole, the guest's own Totals; cut short, what the results listed add up to.
  const totals = broken === undefined ? doc.totals ?? emptyTotals() : totalsOf(doc.tests);
  if (broken === undefined) {
    out.push(...timingLines(r), totalsLine(totals));
    return { text: `${out.join('\n')}\n`, exitCode: r.exitCode, totals };
  }
  if (!planSeen) out.push(planLine(0, results + 1));
  totals.error += 1;
  out.push(resultLine(0, false, results + 1, BOOT_RESULT, 'ERROR', `guest gmemtest did not finish its run (exit ${r.exitCode})`),
    ...diagLines(0, broken), ...consoleDiag(r, 0), ...timingLines(r), totalsLine(totals));
  return { text: `${out.join('\n')}\n`, exitCode: EXIT_FAIL, totals };
}
