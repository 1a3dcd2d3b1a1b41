/** The default command: probe, plan, filter, run, report, exit code. */
import { probeCaps } from '../kvm/caps.js';
import { killAllChildren } from '../isolate/children.js';
import { JsonReporter, skipAllJson } from '../runner/report-json.js';
import { KtapReporter } from '../runner/report-ktap.js';
import { KcidbReporter } from '../runner/report-kcidb.js';
import { DEFAULT_KCIDB_ORIGIN, skipAllKcidb } from '../runner/kcidb.js';
import { allIds, filterPlan, repeatPlan } from '../runner/plan.js';
import type { Reporter } from '../runner/reporter.js';
import { runPlan } from '../runner/run.js';
import { loadXfail, XfailFileError, type XfailRule } from '../runner/xfail.js';
import { buildPlan } from '../cases/matrix.js';
import type { MatrixMode } from '../cases/flag-sets.js';
import { EXIT_FAIL, EXIT_PASS, EXIT_SKIP, UsageError } from './exit-codes.js';
import { skipAllDocument } from '../ktap/writer.js';
import { headerLines } from './header.js';
import type { Io } from './io.js';
import { openDevice } from './open-device.js';

export type Format = 'ktap' | 'pretty' | 'json' | 'kcidb';

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

function skipAll(opts: RunCommandOptions, reason: string, io: Io, version: string): number {
  io.out(opts.format === 'json' ? skipAllJson(version, reason)
    : opts.format === 'kcidb' ? skipAllKcidb(version, reason, opts.kcidbOrigin) : skipAllDocument(reason));
  return EXIT_SKIP;
}

/** The pretty reporter and chalk load only when asked for: most runs are KTAP for a CI. */
async function prettyReporter(io: Io, header: readonly string[]): Promise<Reporter> {
  const [{ PrettyReporter }, { chalkFor }] = await Promise.all([import('../runner/report-pretty.js'), import('./colour.js')]);
  return new PrettyReporter(io.out, chalkFor(), header);
}

/** Installs SIGINT/SIGTERM handlers that ask the run to stop after the current test. */
function stopOnSignals(format: Format): { requested: () => string | null; dispose: () => void } {
  let reason: string | null = null;
  const on = (sig: NodeJS.Signals) => (): void => {
    if (reason !== null) {
      // A second signal: the current case is not coming back. Stop now, KTAP still valid.
      if (format === 'ktap') process.stdout.write(`Bail out! ${reason}, then ${sig} again\n`);
      process.stderr.write(`gmemtest: ${reason}, then ${sig} again: stopped\n`);
      process.exit(EXIT_FAIL);
    }
    reason = `interrupted by ${sig}`;
    // Probes the current case is waiting on die now, so it ends (failed) without delay.
    killAllChildren();
  };
  const int = on('SIGINT');
  const term = on('SIGTERM');
  process.on('SIGINT', int);
  process.on('SIGTERM', term);
  return {
    requested: () => reason,
    dispose: () => { process.off('SIGINT', int); process.off('SIGTERM', term); },
  };
}

export async function runCommand(opts: RunCommandOptions, io: Io, version: string): Promise<number> {
  let xfail: XfailRule[] = [];
  if (opts.xfail !== undefined) {
    try {
      xfail = loadXfail(opts.xfail);
    } catch (e) {
      if (e instanceof XfailFileError) throw new UsageError(`--xfail ${e.message}`);
      throw e;
    }
  }
  const dev = openDevice(opts.device);
  if (!dev.ok) return skipAll(opts, dev.reason, io, version);
  using kvm = dev.kvm;
  const caps = probeCaps(kvm);
  const full = buildPlan(kvm, caps, { mode: opts.matrix, ...(opts.vmType.length ? { vmTypes: opts.vmType } : {}) });
  const plan = repeatPlan(filterPlan(full, opts.filter), opts.repeat);
  if (plan.length === 0 && opts.filter.length > 0) throw new UsageError(`no test id matches --filter ${opts.filter.map((f) => `'${f}'`).join(' ')} (see --list)`);
  if (opts.list) {
    io.out(`${allIds(plan, true).join('\n')}\n`);
    return EXIT_PASS;
  }

  const header = headerLines(version, caps, opts.matrix);
  const reporter: Reporter =
    opts.format === 'json' ? new JsonReporter(io.out, version, caps)
      : opts.format === 'kcidb' ? new KcidbReporter(io.out, version, caps, opts.kcidbOrigin ?? DEFAULT_KCIDB_ORIGIN)
      : opts.format === 'pretty' ? await prettyReporter(io, header)
        : new KtapReporter(io.out, header);
  const stop = stopOnSignals(opts.format);
  try {
    const { totals, bailedOut } = await runPlan(plan, reporter, { xfail, stopRequested: stop.requested, checkLeaks: true });
    if (bailedOut !== null) {
      killAllChildren(); // work started early for cases the run did not reach
      return EXIT_FAIL;
    }
    if (totals.fail + totals.error + totals.xpass > 0) return EXIT_FAIL;
    if (totals.pass + totals.xfail === 0) return EXIT_SKIP;
    return EXIT_PASS;
  } finally {
    stop.dispose();
  }
}
