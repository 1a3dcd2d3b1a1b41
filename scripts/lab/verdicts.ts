// Pure parts of the kernel lab: reading the guest's KTAP (even a truncated one),
// deciding whether a run is complete, matching case-id globs, reading the upstream C
// selftests' output, and judging each variant. No I/O here (unit-tested).

export interface CaseResult {
  /** Dotted id, as gmemtest names tests: default_vm.flags-mmap.fault_private. */
  id: string;
  ok: boolean;
  directive: string | null;
  reason: string;
  /** A case (no subtests), not a group. */
  leaf: boolean;
}

export interface GuestKtap {
  results: CaseResult[];
  /** Structural problems: plans not met, numbering, unfinished subtests, no version line. */
  problems: string[];
  /** The `# Totals:` line's text, if any. */
  totals: string | null;
  bailOut: string | null;
}

const RESULT = /^(ok|not ok) (\d+)(?: (.*?))?$/;
const DIRECTIVE = / # (SKIP|XFAIL|XPASS|TIMEOUT|ERROR|TODO)\b\s*(.*)$/;

interface Level { plan: number | null; count: number; subtest: string | null }

/**
 * Reads gmemtest's KTAP v1 (two spaces a level, `# Subtest:` lines naming each
 * nested test). Works on truncated output: whatever results were written are
 * returned, and what is missing is a problem.
 */
export function readGuestKtap(text: string): GuestKtap {
  const lines = text.split('\n');
  const problems: string[] = [];
  const results: CaseResult[] = [];
  let totals: string | null = null;
  let bailOut: string | null = null;
  if (lines[0] !== 'KTAP version 1') problems.push('no KTAP version line at the start');
  const levels: Level[] = [{ plan: null, count: 0, subtest: null }];
  const close = (depth: number, into: string): void => {
    // Close every level deeper than `depth`; the result at `depth` owns them.
    while (levels.length - 1 > depth) {
      const l = levels.pop()!;
      const where = l.subtest ?? into;
      if (l.plan === null) problems.push(`${where}: no plan`);
      else if (l.count !== l.plan) problems.push(`${where}: ${l.count} of ${l.plan} planned results`);
    }
  };
  const prefix = (depth: number): string[] =>
    levels.slice(1, depth + 1).map((l) => l.subtest ?? '?');
  for (const raw of lines.slice(1)) {
    if (raw.trim() === '') continue;
    const indent = raw.length - raw.trimStart().length;
    const line = raw.trimStart();
    if (indent % 2 !== 0) { problems.push(`odd indentation: '${raw}'`); continue; }
    const depth = indent / 2;
    if (line === 'KTAP version 1') {
      if (depth !== levels.length) problems.push(`unexpected nesting at '${raw}'`);
      while (levels.length <= depth) levels.push({ plan: null, count: 0, subtest: null });
      continue;
    }
    if (line.startsWith('# Subtest: ')) {
      if (depth === levels.length) levels.push({ plan: null, count: 0, subtest: null });
      if (depth < levels.length && depth > 0) levels[depth]!.subtest = line.slice('# Subtest: '.length).trim();
      continue;
    }
    if (depth === 0 && line.startsWith('# Totals:')) { totals = line; continue; }
    if (/^#?\s*Bail out!/.test(line)) { bailOut ??= line.replace(/^#?\s*Bail out!\s*/, ''); continue; }
    if (line.startsWith('#')) continue;
    const plan = /^1\.\.(\d+)/.exec(line);
    if (plan) {
      if (depth >= levels.length) { problems.push(`plan outside a subtest: '${raw}'`); continue; }
      levels[depth]!.plan = Number(plan[1]);
      continue;
    }
    const r = RESULT.exec(line);
    if (!r) continue;
    if (depth >= levels.length) { problems.push(`result outside a subtest: '${raw}'`); continue; }
    const rest = r[3] ?? '';
    const d = DIRECTIVE.exec(rest);
    const name = (d ? rest.slice(0, d.index) : rest).trim();
    const leaf = levels.length - 1 === depth;
    close(depth, name);
    const level = levels[depth]!;
    level.count++;
    if (Number(r[2]) !== level.count) problems.push(`${[...prefix(depth), name].join('.')}: numbered ${r[2]}, expected ${level.count}`);
    results.push({
      id: [...prefix(depth), name].join('.'),
      ok: r[1] === 'ok',
      directive: d ? d[1]! : null,
      reason: d ? d[2]!.trim() : '',
      leaf,
    });
  }
  if (levels.length > 1) {
    const open = levels.slice(1).map((l) => l.subtest ?? '?').join('.');
    problems.push(`output ends inside ${open} (${levels[levels.length - 1]!.count} result(s) of ${levels[levels.length - 1]!.plan ?? '?'})`);
    close(0, 'top');
  }
  const top = levels[0]!;
  if (top.plan === null) problems.push('no top-level plan');
  else if (top.count !== top.plan) problems.push(`${top.count} of ${top.plan} planned top-level results`);
  return { results, problems, totals, bailOut };
}

export interface RunFacts {
  /** The boot ran the command to its end (no panic, timeout...). */
  booted: boolean;
  bootFailure?: string;
  /** gmemtest's exit code in the guest (undefined if it never ended). */
  exitCode?: number;
  ktap: GuestKtap;
}

/** Why a run is not complete (empty: complete): every planned case there, a Totals line, a normal exit. */
export function incompleteBecause(f: RunFacts): string[] {
  const why: string[] = [];
  if (!f.booted) why.push(`boot: ${f.bootFailure ?? 'failed'}`);
  if (f.exitCode === undefined) why.push('gmemtest did not exit');
  else if (f.exitCode !== 0 && f.exitCode !== 1) {
    why.push(f.exitCode > 128 ? `gmemtest killed by signal ${f.exitCode - 128} (exit ${f.exitCode})` : `gmemtest exited with ${f.exitCode}`);
  }
  why.push(...f.ktap.problems);
  if (f.ktap.totals === null) why.push('no Totals line');
  if (f.ktap.bailOut !== null) why.push(`bailed out: ${f.ktap.bailOut}`);
  return why;
}

/** A case-id glob: `*` matches any characters, dots included; anchored. */
export function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}

export const notOkCases = (k: GuestKtap): string[] => k.results.filter((r) => r.leaf && !r.ok).map((r) => r.id);

/** The verdict of each case (leaves only): ok, not ok, SKIP, XFAIL... */
export function leafVerdicts(k: GuestKtap): Map<string, string> {
  const m = new Map<string, string>();
  for (const r of k.results) if (r.leaf) m.set(r.id, r.directive ?? (r.ok ? 'ok' : 'not ok'));
  return m;
}

/** Differences between two verdict maps, as lines (empty: the same), leaving out ids `ignore` matches. */
export function verdictDiff(base: Map<string, string>, other: Map<string, string>, ignore?: (id: string) => boolean): string[] {
  const out: string[] = [];
  for (const [id, v] of base) {
    if (ignore?.(id)) continue;
    const w = other.get(id);
    if (w === undefined) out.push(`${id}: ${v} on the stock kernel, absent here`);
    else if (w !== v) out.push(`${id}: ${v} on the stock kernel, ${w} here`);
  }
  for (const [id, w] of other) if (!ignore?.(id) && !base.has(id)) out.push(`${id}: ${w} here, absent on the stock kernel`);
  return out;
}

export interface CResult {
  /** Exit status (128+N: killed by signal N; 124: killed by `timeout`). */
  exit: number | null;
  /** `file.c:line: expression` of the first failed TEST_ASSERT, if any. */
  assertion: string | null;
  /** The assertion's message line, if any. */
  message: string | null;
}

/** The first failed assertion of a kvm selftest's output ("==== Test Assertion Failure ===="). */
export function readCOutput(log: string, exit: number | null): CResult {
  const lines = log.split('\n');
  const at = lines.findIndex((l) => l.includes('==== Test Assertion Failure ===='));
  if (at < 0) return { exit, assertion: null, message: null };
  const assertion = lines[at + 1]?.trim() ?? null;
  // After "pid=... errno=..." come the numbered stack frames, then the message.
  let message: string | null = null;
  for (const l of lines.slice(at + 3)) {
    const s = l.trim();
    // stack frames: "<n>\t0x...: fn at file:line", "<n>\t (inlined by) ..."
    if (s === '' || /^\d+\t/.test(s)) continue;
    message = s;
    break;
  }
  return { exit, assertion, message };
}

/** A C verdict in words: passed / failed / skipped / killed. */
export function cSummary(c: CResult | undefined): string {
  if (c === undefined) return 'not run';
  if (c.exit === null) return 'did not finish';
  if (c.exit === 0) return 'pass (0)';
  if (c.exit === 4) return 'skip (4)';
  if (c.exit === 124) return 'timeout (124)';
  const sig = c.exit > 128 && c.exit < 160 ? ` ${signalName(c.exit - 128)}` : '';
  return `fail (${c.exit}${sig})${c.assertion ? `: ${c.assertion}` : ''}`;
}

export function signalName(n: number): string {
  const names: Record<number, string> = { 4: 'SIGILL', 6: 'SIGABRT', 7: 'SIGBUS', 9: 'SIGKILL', 11: 'SIGSEGV', 15: 'SIGTERM' };
  return names[n] ?? `signal ${n}`;
}

export const cCaught = (c: CResult | undefined): boolean => c !== undefined && c.exit !== null && c.exit !== 0 && c.exit !== 4;

/** Groups ids by what follows their first segment: "flags-mmap.fault_private [default, sw_protected]". */
export function compactIds(ids: readonly string[]): string {
  const groups = new Map<string, string[]>();
  for (const id of ids) {
    const dot = id.indexOf('.');
    const [head, rest] = dot < 0 ? ['', id] : [id.slice(0, dot).replace(/_vm$/, ''), id.slice(dot + 1)];
    const g = groups.get(rest) ?? [];
    if (head !== '') g.push(head);
    groups.set(rest, g);
  }
  return [...groups].map(([rest, heads]) => (heads.length ? `${rest} [${heads.join(', ')}]` : rest)).join('; ');
}
