/**
 * Every child process gmemtest starts (the fault probes, the vCPU children) is recorded here until it
 * exits, so none is left behind: a SIGINT/SIGTERM handler can call
 * {@link killAllChildren}, and the process's own exit does so too.
 */
import type { ChildProcess } from 'node:child_process';

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Records a spawned child until it exits (or fails to spawn). */
export function trackChild(child: ChildProcess): ChildProcess {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => { killAllChildren(); });
  }
  live.add(child);
  const forget = (): void => { live.delete(child); };
  child.once('exit', forget);
  child.once('error', forget);
  return child;
}

/** Children started and not yet exited. */
export function liveChildren(): number {
  return live.size;
}

/** Sends `signal` (SIGKILL by default) to every live child; returns how many it signalled. */
export function killAllChildren(signal: NodeJS.Signals = 'SIGKILL'): number {
  let n = 0;
  for (const c of live) {
    if (c.exitCode === null && c.signalCode === null && c.kill(signal)) n++;
  }
  return n;
}
