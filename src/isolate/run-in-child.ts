/**
 * Runs one job in a child Node process, so that a call which blocks the thread (a
 * vCPU in KVM_RUN whose guest never exits) cannot hang the runner: past its timeout
 * the child is killed (SIGKILL) and the caller told so. Every child is tracked until
 * it has exited (children.ts, shared with the fault probes): the signal handlers
 * and this process's exit kill any still alive.
 *
 * The child is an entry file that calls serveJob() (serve-job.ts), named in entries.ts.
 */
import { fork, type Serializable } from 'node:child_process';
import { trackChild } from './children.js';
import { childEntryPath, type ChildEntryName } from './entries.js';
import type { ChildMessage } from './serve-job.js';

export type ChildOutcome<R> =
  | { readonly kind: 'result'; readonly value: R; readonly ms: number }
  /** Killed at the timeout; `phase` is the last the child announced. */
  | { readonly kind: 'timeout'; readonly ms: number; readonly phase: string | null; readonly stderr: string }
  /** Exited (or was killed by someone else) without a result. */
  | {
    readonly kind: 'crash'; readonly ms: number; readonly phase: string | null; readonly stderr: string;
    readonly code: number | null; readonly signal: NodeJS.Signals | null;
  };

/** Keeps the last `max` characters of a child's stderr. */
const STDERR_KEEP = 4000;

/** How long a child may take to load its modules and take the job. */
export const DEFAULT_STARTUP_TIMEOUT_MS = 30_000;

/**
 * Forks the child program `entry` (isolate/entries.ts), sends it `job`, and resolves with its result, or with
 * 'timeout' (the child SIGKILLed and reaped first) once the job has run `timeoutMs`, or
 * the child has not taken the job within `startupTimeoutMs`. Start-up is timed apart
 * because it depends on the loader (a TypeScript loader takes seconds), the job not.
 * `ms` in the outcome counts from when the child took the job (from the fork when it
 * never did).
 */
export function runInChild<R>(entry: ChildEntryName, job: Serializable, timeoutMs: number,
  startupTimeoutMs = DEFAULT_STARTUP_TIMEOUT_MS): Promise<ChildOutcome<R>> {
  const t0 = performance.now();
  const child = fork(childEntryPath(entry), [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'advanced' });
  trackChild(child);
  let stderr = '';
  let phase: string | null = null;
  let result: { value: R } | null = null;
  let timedOut = false;
  let jobStart: number | null = null;
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (s: string) => { stderr = (stderr + s).slice(-STDERR_KEEP); });
  const kill = (): void => {
    timedOut = true;
    child.kill('SIGKILL');
  };
  let timer = setTimeout(kill, startupTimeoutMs);
  child.on('message', (m: ChildMessage<R>) => {
    if (m.type === 'started') {
      jobStart = performance.now();
      clearTimeout(timer);
      timer = setTimeout(kill, timeoutMs);
    } else if (m.type === 'phase') phase = m.phase;
    else if (m.type === 'result') result = { value: m.value };
  });
  return new Promise((resolve) => {
    let settled = false;
    const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const ms = performance.now() - (jobStart ?? t0);
      const got = result as { value: R } | null;
      if (got !== null) resolve({ kind: 'result', value: got.value, ms });
      else if (timedOut) resolve({ kind: 'timeout', ms, phase, stderr });
      else resolve({ kind: 'crash', ms, phase, stderr, code, signal });
    };
    // 'close' comes after 'exit' and after stdio and IPC have drained: a result sent
    // just before exiting has arrived by then.
    child.once('close', finish);
    child.once('error', (e) => {
      stderr += `\n${e.message}`;
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    if (child.pid === undefined || typeof child.send !== 'function') {
      // The fork itself failed (EMFILE, EAGAIN, ENOMEM): 'error' follows, and no 'close'.
      child.once('error', () => finish(null, null));
      return;
    }
    child.send(job);
  });
}
