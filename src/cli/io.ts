/** Where the CLI writes; process streams in real use, strings in tests. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
}

let wroteOut = false;

export const processIo: Io = {
  out: (t) => { wroteOut = true; process.stdout.write(t); },
  err: (t) => { process.stderr.write(t); },
};

/** Whether anything reached stdout yet (a fatal error then needs no KTAP version line). */
export const stdoutStarted = (): boolean => wroteOut;

let exiting = false;

/**
 * process.exit(code) once everything written so far has left through stdout and stderr.
 * A pipe the reader drains slowly holds what did not fit in it in Node's queue, which
 * process.exit() would drop, cutting the KTAP short; a reader that stops reading for
 * `limitMs` gets the exit anyway. Later calls do nothing.
 */
export function exitWhenWritten(code: number, limitMs = 10_000): void {
  if (exiting) return;
  exiting = true;
  process.exitCode = code;
  let pending = 2;
  const written = (): void => { if (--pending === 0) process.exit(code); };
  setTimeout(() => process.exit(code), limitMs);
  process.stdout.write('', written);
  process.stderr.write('', written);
}
