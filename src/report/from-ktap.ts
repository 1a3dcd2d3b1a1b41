/**
 * gmemtest's KTAP as a Run, read with the one KTAP reader (src/ktap/reader.ts):
 *  - a host run (`# gmemtest X: guest_memfd conformance ...` header), nested or flat
 *    (`--format ktap-flat`: one top-level result per case, named by its id, its `# `
 *    lines after it);
 *  - a `gmemtest boot` run (`# gmemtest X boot: kernel ... (release R)` header): the
 *    guest's run nested one level down as a subtest named for the release, or, in the
 *    flat form, the guest's results unprefixed with its header as `# guest: ` lines; a
 *    failed boot is one `not ok 1 <name> # ERROR <kind>` (or `# TIMEOUT`).
 */
import { readKtap, walkTests, type KtapDocument, type KtapTest } from '../ktap/reader.js';
import { ReportInputError } from './from-json.js';
import type { Cell, RawStatus, Run, RunProblem } from './model.js';
import type { Status } from '../runner/outcome.js';

const RUN_HEADER = /^gmemtest (\S+): guest_memfd conformance/;
const BOOT_HEADER = /^gmemtest (\S+) boot: kernel (.+?) \(release ([^)]*)\)/;

/** The status a result line gives, and what the case itself gave. */
export function ktapStatus(t: KtapTest): { status: Status; raw: RawStatus } {
  switch (t.directive) {
    case 'SKIP': return { status: 'skip', raw: 'skip' };
    case 'XFAIL': return { status: 'xfail', raw: 'fail' };
    case 'XPASS': return { status: 'xpass', raw: 'pass' };
    case 'TIMEOUT': return { status: 'timeout', raw: 'timeout' };
    case 'ERROR': return { status: 'error', raw: 'error' };
    case 'TODO': return t.ok ? { status: 'xpass', raw: 'pass' } : { status: 'xfail', raw: 'fail' };
    case null:
      if (t.ok) return { status: 'pass', raw: 'pass' };
      // Part 9's XPASS: `not ok` without a directive after an `xpass:` line.
      return t.diagnostics.some((d) => d.startsWith('xpass:')) ? { status: 'xpass', raw: 'pass' } : { status: 'fail', raw: 'fail' };
  }
}

function cellOf(t: KtapTest, diagnostics: readonly string[]): Cell {
  const { status, raw } = ktapStatus({ ...t, diagnostics });
  // A bare `# SKIP` (flat form) has its reason in a `skip:` line; an XPASS in an `xpass:` line.
  const noted = diagnostics.find((d) => (status === 'skip' && d.startsWith('skip: ')) || (status === 'xpass' && d.startsWith('xpass: ')));
  const reason = t.reason !== '' ? t.reason : noted !== undefined ? noted.slice(noted.indexOf(':') + 2) : null;
  return { status, raw, reason, diagnostics, durationMs: null };
}

/**
 * The `# ` lines that follow each top-level result (the flat form puts a case's
 * diagnostics after it), by the result's position.
 */
function diagnosticsAfter(doc: KtapDocument): string[][] {
  const out: string[][] = [];
  let current: string[] | null = null;
  for (const l of doc.lines) {
    if (l.depth !== 0) continue;
    if (l.kind === 'result') out.push(current = []);
    else if (l.kind === 'diagnostic' && current !== null) current.push(l.text);
    else if (l.kind === 'plan' || l.kind === 'totals' || l.kind === 'version') current = null;
  }
  return out;
}

/** Flat form: every top-level result is a case, and some are named by a dotted id. */
const isFlat = (tests: readonly KtapTest[]): boolean =>
  tests.length > 0 && tests.every((t) => t.children.length === 0) && tests.some((t) => t.name.includes('.'));

function cellsOf(tests: readonly KtapTest[], flatDiagnostics?: string[][]): Map<string, Cell> {
  const cells = new Map<string, Cell>();
  if (flatDiagnostics) {
    tests.forEach((t, i) => cells.set(t.name, cellOf(t, flatDiagnostics[i] ?? [])));
    return cells;
  }
  for (const { id, test } of walkTests(tests)) if (test.children.length === 0) cells.set(id, cellOf(test, test.diagnostics));
  return cells;
}

/** Host facts and capabilities from a run's header lines (as src/cli/header.ts writes them). */
export function headerCapabilities(header: readonly string[]): [string, string][] {
  const pairs: [string, string][] = [];
  for (const line of header) {
    let m = /^host: (.*)$/.exec(line);
    if (m) {
      // "kernel 6.18.44, device /dev/kvm, KVM API 12, page_size 4096, ..."
      for (const part of m[1]!.split(', ')) {
        const sp = part.lastIndexOf(' ');
        if (sp > 0) pairs.push([part.slice(0, sp), part.slice(sp + 1)]);
      }
      continue;
    }
    m = /^system fd: (.*)$/.exec(line);
    if (m) {
      for (const kv of m[1]!.split(/\s+/)) {
        const eq = kv.indexOf('=');
        if (eq > 0) pairs.push([kv.slice(0, eq), kv.slice(eq + 1)]);
      }
      continue;
    }
    m = /^([a-z0-9_]+_vm|vm_type_\d+): (.*)$/.exec(line);
    if (m) { pairs.push([m[1]!, m[2]!]); continue; }
    m = /^matrix: (\S+)$/.exec(line);
    if (m) pairs.push(['matrix', m[1]!]);
  }
  return pairs;
}

const record = (pairs: readonly (readonly [string, string])[]): Record<string, string> => Object.fromEntries(pairs);
const kernelOf = (pairs: readonly (readonly [string, string])[]): string | null => pairs.find(([k]) => k === 'kernel')?.[1] ?? null;

/** The `# ` lines of a nested guest before its plan (its header). */
function guestHeader(doc: KtapDocument): string[] {
  const start = doc.lines.findIndex((l) => l.kind === 'version' && l.depth === 1);
  const out: string[] = [];
  if (start < 0) return out;
  for (const l of doc.lines.slice(start + 1)) {
    if (l.depth !== 1 || l.kind === 'plan' || l.kind === 'result') break;
    if (l.kind === 'diagnostic') out.push(l.text);
  }
  return out;
}

/** The reader gives a nested guest's header to its first result as diagnostics: take them back. */
function withoutHeader(tests: readonly KtapTest[], header: readonly string[]): KtapTest[] {
  const [first, ...rest] = tests;
  if (first === undefined || header.length === 0) return [...tests];
  const own = first.diagnostics.slice(0, header.length).every((d, i) => d === header[i]) ? first.diagnostics.slice(header.length) : first.diagnostics;
  return [{ ...first, diagnostics: own }, ...rest];
}

/**
 * The words of a failed boot: `# ERROR kernel-panic` after `# kernel-panic: <message>`
 * says "kernel-panic: <message>"; `# TIMEOUT timeout: <message>` says "<message>".
 */
function bootFailure(t: KtapTest, diagnostics: readonly string[]): string {
  const first = diagnostics[0];
  const said = first !== undefined && t.reason !== '' && first.startsWith(`${t.reason}: `) ? first : t.reason;
  return said.replace(new RegExp(`^${(t.directive ?? '').toLowerCase()}: `), '') || (t.directive ?? '').toLowerCase();
}

function problemOfTop(t: KtapTest): RunProblem | null {
  const { status } = ktapStatus(t);
  if (t.directive === 'SKIP') return { status: 'skip', message: `every guest case skipped${t.reason ? `: ${t.reason}` : ''}`, diagnostics: t.diagnostics };
  if (status === 'error' || status === 'timeout') return { status, message: bootFailure(t, t.diagnostics), diagnostics: t.diagnostics };
  return null;
}

function bootRun(file: string, text: string, doc: KtapDocument, m: RegExpExecArray): Omit<Run, 'label'> {
  const version = m[1]!;
  const image = m[2]!;
  const releaseText = m[3]!;
  const accel = doc.header.map((h) => /^accel: (.*)$/.exec(h)?.[1]).find((x) => x !== undefined);
  const command = doc.header.map((h) => /^guest command: (.*)$/.exec(h)?.[1]).find((x) => x !== undefined);
  const kvmModules = doc.header.map((h) => /^kvm modules: (\S+)/.exec(h)?.[1]).find((x) => x !== undefined);
  // What the guest was asked beyond the default run: the arguments after the bundle.
  const guestArgs = command?.split(' ').slice(2).join(' ') ?? '';
  const variant = [kvmModules ? `kvm modules ${kvmModules.split('/').filter(Boolean).pop()}` : '', guestArgs].filter(Boolean).join(', ') || null;

  const top = doc.tests[0];
  // The flat form carries the guest's header as `guest: ` lines and names a failed boot `boot`.
  const flat = doc.header.some((h) => h.startsWith('guest: ')) || (doc.tests.length === 1 && top?.name === 'boot');
  let cells = new Map<string, Cell>();
  let header: string[];
  let problem: RunProblem | null = null;
  if (top === undefined) {
    header = [];
    problem = incomplete(doc) ?? { status: 'error', message: 'no result in the KTAP', diagnostics: [] };
  } else if (!flat) {
    header = guestHeader(doc);
    cells = cellsOf(withoutHeader(top.children, header));
    problem = problemOfTop(top);
  } else {
    header = doc.header.filter((h) => h.startsWith('guest: ')).map((h) => h.slice('guest: '.length));
    const failed = doc.tests.length === 1 && top.name === 'boot' && ['ERROR', 'TIMEOUT'].includes(top.directive ?? '');
    const after = diagnosticsAfter(doc);
    if (failed) problem = { status: top.directive === 'TIMEOUT' ? 'timeout' : 'error', message: bootFailure(top, after[0] ?? []), diagnostics: after[0] ?? [] };
    else cells = cellsOf(doc.tests, after);
  }
  const caps = headerCapabilities(header);
  const release = releaseText !== 'unknown' ? releaseText : kernelOf(caps);
  const bootPairs: [string, string][] = [['kernel image', image]];
  if (accel) bootPairs.push(['QEMU', accel]);
  if (kvmModules) bootPairs.push(['kvm modules', kvmModules]);
  if (command) bootPairs.push(['guest command', command]);
  return {
    file, source: 'boot', version, kernel: release, arch: 'x86_64', variant,
    // "tcg; 2 vCPUs, 2048 MiB, 2 NUMA nodes, timeout 300 s" -> "QEMU tcg, 2 vCPUs, 2048 MiB, 2 NUMA nodes"
    environment: `QEMU${accel ? ` ${accel.replace('; ', ', ').replace(/, timeout .*$/, '')}` : ''} (gmemtest boot)`,
    capabilities: [...bootPairs, ...caps],
    capabilitiesRecord: { boot: record(bootPairs), ...record(caps) },
    problem: problem ?? incomplete(doc), cells, totals: doc.totals, text,
  };
}

/** A document the reader found broken (cut short, say) and that did not bail out. */
function incomplete(doc: KtapDocument): RunProblem | null {
  if (doc.bailOut !== null) return { status: 'error', message: `bailed out: ${doc.bailOut}`, diagnostics: [] };
  if (doc.problems.length === 0) return null;
  return { status: 'error', message: `incomplete KTAP: ${doc.problems[0]}`, diagnostics: doc.problems.slice(0, 10) };
}

function hostRun(file: string, text: string, doc: KtapDocument, m: RegExpExecArray): Omit<Run, 'label'> {
  const caps = headerCapabilities(doc.header);
  const flat = isFlat(doc.tests);
  const cells = cellsOf(doc.tests, flat ? diagnosticsAfter(doc) : undefined);
  const matrix = caps.find(([k]) => k === 'matrix')?.[1];
  const kernel = kernelOf(caps);
  const get = (k: string): string | undefined => caps.find(([x]) => x === k)?.[1];
  const where = [get('device'), get('KVM API') && `KVM API ${get('KVM API')}`,
    get('numa_nodes') && `${get('numa_nodes')} NUMA node${get('numa_nodes') === '1' ? '' : 's'}`].filter(Boolean).join(', ');
  let problem = incomplete(doc);
  if (problem === null && doc.skipAll !== null) problem = { status: 'skip', message: `nothing could run: ${doc.skipAll}`, diagnostics: [] };
  return {
    file, source: 'ktap', version: m[1]!, kernel, arch: 'x86_64',
    variant: matrix !== undefined && matrix !== 'all' ? `matrix ${matrix}` : null,
    environment: `host ${where}`,
    capabilities: caps, capabilitiesRecord: record(caps), problem, cells, totals: doc.totals, text,
  };
}

export function runFromKtap(file: string, text: string): Omit<Run, 'label'> {
  const doc = readKtap(text);
  for (const h of doc.header) {
    const boot = BOOT_HEADER.exec(h);
    if (boot) return bootRun(file, text, doc, boot);
    const run = RUN_HEADER.exec(h);
    if (run) return hostRun(file, text, doc, run);
  }
  throw new ReportInputError(`${file}: KTAP, but not from gmemtest (no '# gmemtest ...' header line before the plan)`);
}
