/**
 * Progress of long work, on stderr only, never in the result stream.
 *
 * Two forms. With GMEMTEST_PROGRESS=1 in its environment a gmemtest process writes
 * progress events as plain lines, `gmemtest: progress <phase> [<n>/<m>] [<detail>]`, for
 * a program watching it (`gmemtest boot` sets it for the guest's gmemtest, whose stderr
 * reaches the host over the console; the kernel matrix and the lab set it for the boots
 * they run). A StatusLine shows such events to a person: one line per piece of work,
 * rewritten in place on a TTY (phase, case n of m, elapsed seconds) and left with its
 * last state when the work is done; where stderr is not a TTY it writes nothing.
 */
import type { Outcome, Totals } from '../runner/outcome.js';
import type { PlanNode } from '../runner/plan.js';
import type { Reporter } from '../runner/reporter.js';

export const PROGRESS_ENV = 'GMEMTEST_PROGRESS';

export type Phase = 'preparing' | 'fetching' | 'building' | 'booting' | 'starting' | 'running' | 'done';

export interface ProgressEvent {
  readonly phase: Phase;
  /** Cases reported so far, and planned, while running. */
  readonly n?: number;
  readonly m?: number;
  readonly detail?: string;
}

const PREFIX = 'gmemtest: progress ';
const PHASES: readonly Phase[] = ['preparing', 'fetching', 'building', 'booting', 'starting', 'running', 'done'];

/** Whether this process was asked for progress lines. */
export const progressLinesWanted = (env: NodeJS.ProcessEnv = process.env): boolean => env[PROGRESS_ENV] === '1';

export function progressLine(e: ProgressEvent): string {
  const count = e.n !== undefined && e.m !== undefined ? ` ${e.n}/${e.m}` : '';
  return `${PREFIX}${e.phase}${count}${e.detail ? ` ${e.detail}` : ''}\n`;
}

/** The event a progress line carries (anywhere in a console line), or null. */
export function parseProgress(line: string): ProgressEvent | null {
  const at = line.indexOf(PREFIX);
  if (at < 0) return null;
  const m = /^(\w+)(?: (\d+)\/(\d+))?(?: (.*))?$/.exec(line.slice(at + PREFIX.length).trimEnd());
  if (!m || !PHASES.includes(m[1] as Phase)) return null;
  return {
    phase: m[1] as Phase,
    ...(m[2] !== undefined ? { n: Number(m[2]), m: Number(m[3]) } : {}),
    ...(m[4] ? { detail: m[4] } : {}),
  };
}

/**
 * A Reporter that passes everything to `inner` and writes a `running n/m` line after
 * each case (at most every `everyMs`, and always the last), `m` being the cases planned.
 */
export function withProgressLines(inner: Reporter, write: (line: string) => void, everyMs = 250,
  now: () => number = () => performance.now()): Reporter {
  let total = 0;
  let done = 0;
  let last = -Infinity;
  const leaves = (ns: readonly PlanNode[]): number => ns.reduce((k, x) => k + (x.children ? leaves(x.children) : 1), 0);
  return {
    begin(plan: readonly PlanNode[]): void {
      total = leaves(plan);
      inner.begin(plan);
      write(progressLine({ phase: 'running', n: 0, m: total }));
      last = now();
    },
    enterGroup: (node, depth, count) => inner.enterGroup(node, depth, count),
    result(node: PlanNode, depth: number, index: number, outcome: Outcome): void {
      inner.result(node, depth, index, outcome);
      if (node.children) return;
      done++;
      if (done === total || now() - last >= everyMs) {
        write(progressLine({ phase: 'running', n: done, m: total }));
        last = now();
      }
    },
    end(totals: Totals, interrupted?: string): void {
      inner.end(totals, interrupted);
      write(progressLine({ phase: 'done', n: done, m: total }));
    },
  };
}

interface Stream {
  readonly isTTY?: boolean;
  write(s: string): unknown;
}

/** One line of progress for one piece of work (a boot, a kernel, a lab variant). */
export class StatusLine {
  readonly #t0: number;
  #event: ProgressEvent = { phase: 'preparing' };
  #timer: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(private readonly label: string, private readonly out: Stream = process.stderr,
    private readonly now: () => number = () => performance.now()) {
    this.#t0 = now();
    if (!this.active) return;
    this.#draw();
    // The elapsed time moves even while the phase does not (a kernel booting for 10 s).
    this.#timer = setInterval(() => this.#draw(), 1000);
    this.#timer.unref();
  }

  /** Only a terminal gets progress. */
  get active(): boolean {
    return this.out.isTTY === true;
  }

  update(e: ProgressEvent): void {
    if (this.#closed) return;
    this.#event = e;
    this.#draw();
  }

  /** Erases the line for a moment (before other output); the next update draws it again. */
  clear(): void {
    if (this.active && !this.#closed) this.out.write('\r\x1b[K');
  }

  /** The last state, with `result`, left on its own line. */
  done(result: string): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    if (this.active) this.out.write(`\r\x1b[K${this.#text({ phase: 'done', detail: result })}\n`);
  }

  #text(e: ProgressEvent): string {
    const secs = ((this.now() - this.#t0) / 1000).toFixed(0);
    const count = e.n !== undefined && e.m !== undefined ? `: case ${e.n} of ${e.m}` : '';
    return `${this.label}: ${e.phase}${count}${e.detail ? ` (${e.detail})` : ''}, ${secs} s`;
  }

  #draw(): void {
    if (this.active && !this.#closed) this.out.write(`\r\x1b[K${this.#text(this.#event)}`);
  }
}
