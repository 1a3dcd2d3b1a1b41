/**
 * gmemtest ends with its caller. The processes that started it (npx, npm, a shell, a CI
 * step) are its ancestors in its own session; when one of them is gone, nobody waits for
 * the run any more, and it stops as on SIGTERM. npm does not pass a signal on to the
 * script it runs, so without this a CI timeout that kills `npx gmemtest` would leave the
 * run going, orphaned, with its children.
 *
 * Ancestors are recorded by pid and start time (so a recycled pid is not mistaken for
 * the ancestor), read from /proc, and checked a few times a second. Ancestors outside
 * the session (the terminal emulator, sshd, init) are not watched: `setsid gmemtest`
 * detaches a run on purpose.
 */
import { readFileSync } from 'node:fs';

interface ProcStat {
  readonly pid: number;
  readonly comm: string;
  readonly ppid: number;
  readonly session: number;
  readonly startTime: string;
}

/** /proc/<pid>/stat, or null when the process is gone. */
export function procStat(pid: number | 'self', proc = '/proc'): ProcStat | null {
  let text: string;
  try {
    text = readFileSync(`${proc}/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // comm is in parentheses and may itself hold spaces and parentheses: split after the last ')'.
  const close = text.lastIndexOf(')');
  const open = text.indexOf('(');
  if (open < 0 || close < open) return null;
  const rest = text.slice(close + 2).split(' ');
  // After comm: state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt
  // utime stime cutime cstime priority nice num_threads itrealvalue starttime ...
  return {
    pid: Number(text.slice(0, open).trim()),
    comm: text.slice(open + 1, close),
    ppid: Number(rest[1]),
    session: Number(rest[3]),
    startTime: rest[19] ?? '',
  };
}

/** This process's ancestors in its session, nearest first. */
export function sessionAncestors(proc = '/proc'): ProcStat[] {
  const self = procStat('self', proc);
  if (self === null) return [];
  const out: ProcStat[] = [];
  let pid = self.ppid;
  while (pid > 1 && out.length < 64) {
    const p = procStat(pid, proc);
    if (p === null || p.session !== self.session) break;
    out.push(p);
    pid = p.ppid;
  }
  return out;
}

/** The first recorded ancestor that is gone (or whose pid now names another process). */
export function goneAncestor(ancestors: readonly ProcStat[], proc = '/proc'): ProcStat | null {
  for (const a of ancestors) {
    const now = procStat(a.pid, proc);
    if (now === null || now.startTime !== a.startTime) return a;
  }
  return null;
}

/**
 * Calls `onGone(reason)` once, when an ancestor of this process in its session exits.
 * Returns the function that stops watching. The timer does not keep the process alive.
 */
export function watchCaller(onGone: (reason: string) => void, intervalMs = 200): () => void {
  const ancestors = sessionAncestors();
  if (ancestors.length === 0) return () => {};
  const parent = ancestors[0]!.pid;
  const timer = setInterval(() => {
    const gone = process.ppid !== parent ? ancestors[0]! : goneAncestor(ancestors);
    if (gone === null) return;
    clearInterval(timer);
    onGone(`its caller ${gone.comm} (pid ${gone.pid}) exited`);
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
