/** The default command: probe, plan, filter, run, report, exit code. */
import { probeCaps, type Caps } from '../kvm/caps.js';
import { hex } from '../kvm/hex.js';
import { killAllAccessHelpers } from '../isolate/access-helper.js';
import type { Totals } from '../runner/outcome.js';
import { JsonReporter } from '../runner/report-json.js';
import { KcidbReporter } from '../runner/report-kcidb.js';
import { DEFAULT_KCIDB_ORIGIN } from '../runner/kcidb.js';
import { FlatKtapReporter, KtapReporter } from '../runner/report-ktap.js';
import { allIds, filterPlan, repeatPlan, skipped, type PlanNode } from '../runner/plan.js';
import type { Reporter } from '../runner/reporter.js';
import { startPlan, type PlanRunHandle } from '../runner/run.js';
import { loadXfail, XfailFileError, type XfailRule } from '../runner/xfail.js';
import { buildPlan } from '../cases/matrix.js';
import type { MatrixMode } from '../cases/flag-sets.js';
import { watchCaller } from './caller-watch.js';
import { EXIT_FAIL, EXIT_PASS, EXIT_SKIP, UsageError } from './exit-codes.js';
import { headerLines, toolLine } from './header.js';
import { exitWhenWritten, type Io } from './io.js';
import { progressLinesWanted, withProgressLines } from './progress.js';
import { markWholeSuiteRun } from './code-cache-mark.js';
import { openDevice } from './open-device.js';

export const FORMATS = ['ktap', 'ktap-flat', 'pretty', 'json', 'junit', 'kcidb'] as const;
export type Format = (typeof FORMATS)[number];

export interface RunCommandOptions {
  device: string;
  format: Format;
  filter: string[];
  vmType: number[];
  matrix: MatrixMode;
  xfail?: string;
  list?: boolean;
  repeat: number;
  kcidbOrigin?: string;
}

/** The name of the one result of a run that could not run anything. */
export const WHOLE_RUN = 'gmemtest';

/** JUnit's properties: gmemtest's version and the host's scalar capabilities. */
function junitProperties(version: string, caps: Caps | null, matrix: string): Record<string, string> {
  const p: Record<string, string> = { 'gmemtest.version': version, matrix };
  if (caps === null) return p;
  const hexed = new Set(['capVmTypes', 'capGuestMemfdFlags']);
  for (const [k, v] of Object.entries(caps)) {
    if (typeof v === 'number') p[k] = hexed.has(k) ? hex(v) : String(v);
    else if (typeof v === 'string') p[k] = v;
  }
  return p;
}

/** The reporter for `format`; pretty output and JUnit's XML library load only when asked for. */
async function reporterFor(opts: RunCommandOptions, io: Io, version: string, header: readonly string[],
  caps: Caps | null): Promise<Reporter> {
  switch (opts.format) {
    case 'ktap': return new KtapReporter(io.out, header);
    case 'ktap-flat': return new FlatKtapReporter(io.out, header);
    case 'json': return new JsonReporter(io.out, version, caps);
    case 'kcidb': return new KcidbReporter(io.out, version, caps, opts.kcidbOrigin ?? DEFAULT_KCIDB_ORIGIN);
    case 'junit': {
      const { JunitReporter } = await import('../runner/report-junit.js');
      return new JunitReporter(io.out, junitProperties(version, caps, opts.matrix));
    }
    case 'pretty': {
      const [{ PrettyReporter }, { chalkFor }] = await Promise.all([import('../runner/report-pretty.js'), import('./colour.js')]);
      return new PrettyReporter(io.out, chalkFor(), header);
    }
  }
}

interface Stopper {
  requested: () => string | null;
  /**
   * The run has ended with `code`: a signal from now on (the process may still be
   * reaping children) exits with that code at once, writing nothing more.
   */
  finished: (code: number) => void;
}

/**
 * Asks the run to stop after the current test on SIGINT/SIGTERM or when the caller is
 * gone; a second signal closes the output at once (the current case reported
 * interrupted, the rest not run, every plan kept) and exits.
 */
function stopOnSignals(run: () => PlanRunHandle | null): Stopper {
  let reason: string | null = null;
  const stop = (why: string): void => {
    reason ??= why;
    // Probes the current case is waiting on die now, so it ends (failed) without delay.
    killAllAccessHelpers();
  };
  const on = (sig: NodeJS.Signals) => (): void => {
    if (reason !== null) {
      const again = `${reason}, then ${sig} again`;
      run()?.abortNow(reason, `${again}: this case did not finish`);
      process.stderr.write(`gmemtest: ${again}: stopped\n`);
      killAllAccessHelpers();
      exitWhenWritten(EXIT_FAIL);
    }
    stop(`interrupted by ${sig}`);
  };
  const int = on('SIGINT');
  const term = on('SIGTERM');
  process.on('SIGINT', int);
  process.on('SIGTERM', term);
  const unwatch = watchCaller((why) => stop(`interrupted: ${why}`));
  return {
    requested: () => reason,
    finished: (code) => {
      process.off('SIGINT', int);
      process.off('SIGTERM', term);
      unwatch();
      const late = (): void => { killAllAccessHelpers(); exitWhenWritten(code); };
      process.once('SIGINT', late);
      process.once('SIGTERM', late);
    },
  };
}

function loadRules(file: string | undefined): XfailRule[] {
  if (file === undefined) return [];
  try {
    return loadXfail(file);
  } catch (e) {
    if (e instanceof XfailFileError) throw new UsageError(`--xfail ${e.message}`);
    throw e;
  }
}

/** A run where nothing can run: one skipped result, in the format asked for. */
async function skipAll(opts: RunCommandOptions, io: Io, version: string, reason: string, detail: string): Promise<number> {
  const plan = [skipped('', WHOLE_RUN, reason, [detail])];
  const reporter = await reporterFor(opts, io, version, [toolLine(version)], null);
  await startPlan(plan, reporter).done;
  return EXIT_SKIP;
}

export async function runCommand(opts: RunCommandOptions, io: Io, version: string): Promise<number> {
  const xfail = loadRules(opts.xfail);
  const dev = openDevice(opts.device);
  if (!dev.ok) return skipAll(opts, io, version, dev.reason, dev.detail);
  using kvm = dev.kvm;
  const caps = probeCaps(kvm);
  const full = buildPlan(kvm, caps, { mode: opts.matrix, ...(opts.vmType.length ? { vmTypes: opts.vmType } : {}) });
  const plan: PlanNode[] = repeatPlan(filterPlan(full, opts.filter), opts.repeat);
  if (plan.length === 0 && opts.filter.length > 0) throw new UsageError(`no test id matches --filter ${opts.filter.map((f) => `'${f}'`).join(' ')} (see --list)`);
  if (opts.list) {
    io.out(`${allIds(plan, true).join('\n')}\n`);
    return EXIT_PASS;
  }

  const formatted = await reporterFor(opts, io, version, headerLines(version, caps, opts.matrix), caps);
  // Asked for by whoever watches this run (gmemtest boot, for the guest's gmemtest): stderr only.
  const reporter = progressLinesWanted() ? withProgressLines(formatted, (l) => io.err(l)) : formatted;
  let handle: PlanRunHandle | null = null;
  const stop = stopOnSignals(() => handle);
  let code: number = EXIT_FAIL;
  try {
    handle = startPlan(plan, reporter, { xfail, stopRequested: stop.requested, checkLeaks: true });
    let summary;
    try {
      summary = await handle.done;
    } catch (e) {
      // A fault of gmemtest itself outside any case: the output is still closed validly.
      const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      handle.abortNow(`internal error: ${msg}`, `internal error: ${msg}`);
      throw e;
    }
    code = exitCode(summary.totals, summary.bailedOut);
    if (summary.bailedOut === null && opts.filter.length === 0 && opts.vmType.length === 0 && opts.repeat === 1) markWholeSuiteRun();
    // Work started early for cases the run did not reach is not waited for.
    if (summary.bailedOut !== null) killAllAccessHelpers();
    return code;
  } finally {
    stop.finished(code);
  }
}

/** kselftest's meaning: 1 for a failure of any kind or an interrupted run, 4 when nothing passed. */
function exitCode(totals: Totals, bailedOut: string | null): number {
  if (bailedOut !== null) return EXIT_FAIL;
  if (totals.fail + totals.error + totals.xpass > 0) return EXIT_FAIL;
  if (totals.pass + totals.xfail === 0) return EXIT_SKIP;
  return EXIT_PASS;
}
