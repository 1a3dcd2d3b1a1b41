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
