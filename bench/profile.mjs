// Summarises a V8 CPU profile (node --cpu-prof) of a gmemtest run: time by phase, by
// kind of work inside the cases, and the functions with the most self time.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { round } from './lib.mjs';

/** The one .cpuprofile in `dir`. */
export function readProfile(dir) {
  const file = readdirSync(dir).find((x) => x.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no .cpuprofile in ${dir}`);
  return { file: join(dir, file), prof: JSON.parse(readFileSync(join(dir, file), 'utf8')) };
}

// Where a sample is, from the names on its stack (innermost first). The first rule that
// matches wins; `phase` is where in the run, `work` what kind of work inside it.
const PHASES = [
  ['gc', (s) => s[0] === '(garbage collector)'],
  ['idle', (s) => s[0] === '(idle)'],
  ['cases', (s) => s.some((n) => /^(#runCase|runCase)$/.test(n))],
  ['reporting', (s) => s.some((n) => /Reporter|^result$|^enterGroup$|^begin$|^end$/.test(n))],
  ['open, probe, plan', (s) => s.some((n) => /^(probeCaps|buildPlan|openDevice|filterPlan|headerLines|hostInfo)$/.test(n))],
  ['module load', (s) => s.some((n) => /^(compileSourceTextModule|link|instantiate|evaluate|loadESM|import|moduleStrategy|Module\._load|wrapSafe)$/.test(n))
    || s.some((n) => /internal\/modules/.test(n))],
];
const WORK = [
  ['leak check (/proc/self/fd, maps)', (s) => s.includes('kvmResources')],
  ['access helper: spawn to READY', (s) => s.includes('spawn') && s.some((n) => /AccessHelper|awaitReady|spawnProcess/.test(n))],
  ['access helper: requests', (s) => s.includes('request')],
  ['access helper: end, reap', (s) => s.some((n) => /^(#finish|close|kill|#waitExit)$/.test(n)) && s.some((n) => /AccessHelper|RemoteMm/.test(n))],
  ['ioctl sweep', (s) => s.some((n) => /createGuestMemfdSizes|^run$/.test(n)) && s.some((n) => /Sweep/.test(n))],
  ['vCPU', (s) => s.some((n) => /^(runFor|run)$/.test(n)) && s.some((n) => /guest_memfd_guest/.test(n))],
  ['FFI calls (realCall)', (s) => s.includes('realCall')],
];

/**
 * @param prof a parsed .cpuprofile
 * @param intervalUs the sampling interval asked for: a gap far longer than that is time
 *   off the CPU (descheduled), not time in the sampled function
 */
export function summarise(prof, intervalUs, { top = 20, root = '' } = {}) {
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const stacks = new Map();
  const stackOf = (id) => {
    let s = stacks.get(id);
    if (s) return s;
    s = [];
    for (let x = id; x !== undefined; x = parent.get(x)) s.push(byId.get(x).callFrame.functionName || '(anonymous)');
    stacks.set(id, s);
    return s;
  };
  const short = (u) => (u ? u.replace(`file://${root}/`, '').replace(/^.*\/node_modules\//, 'node_modules/') : '');
  const self = new Map();
  const phase = {};
  const work = {};
  let descheduled = 0;
  const dt = prof.timeDeltas;
  for (let i = 0; i < prof.samples.length; i++) {
    const gap = dt[i + 1] ?? 0;
    const us = Math.min(gap, 4 * intervalUs);
    descheduled += gap - us;
    const node = byId.get(prof.samples[i]);
    const cf = node.callFrame;
    const key = `${cf.functionName || '(anonymous)'}  ${short(cf.url)}${cf.url ? `:${cf.lineNumber + 1}` : ''}`;
    self.set(key, (self.get(key) ?? 0) + us);
    const s = stackOf(node.id);
    const p = PHASES.find(([, test]) => test(s))?.[0] ?? 'other (start-up, top level)';
    phase[p] = (phase[p] ?? 0) + us;
    if (p === 'cases') {
      const w = WORK.find(([, test]) => test(s))?.[0] ?? 'other case work';
      work[w] = (work[w] ?? 0) + us;
    }
  }
  const totalUs = prof.endTime - prof.startTime;
  const ms = (o) => Object.fromEntries(Object.entries(o).sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, round(v / 1000, 1)]));
  return {
    profiledMs: round(totalUs / 1000, 1),
    descheduledMs: round(descheduled / 1000, 1),
    byPhaseMs: ms(phase),
    insideCasesMs: ms(work),
    topSelf: [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)
      .map(([fn, us]) => ({ fn, selfMs: round(us / 1000, 1), pct: round((100 * us) / totalUs, 1) })),
  };
}
