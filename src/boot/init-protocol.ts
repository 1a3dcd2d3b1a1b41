/**
 * How the generated /init (initramfs.ts) and the host (boot-and-run.ts) talk: the 9p
 * shares and the files the results come back in, and the console protocol. Both ends
 * use this module, so a key is spelled in one place.
 *
 * Every line /init prints for the host starts with MARK at the start of a console line:
 * `@@gmemtest <key> <value...>`.
 */

/** 9p mount tag of the host root (shared read-only). */
export const HOST_ROOT_TAG = 'hostroot';
/** 9p mount tag of the writable host directory that receives the results. */
export const OUT_TAG = 'gmemtest_out';
/**
 * Path, inside the chroot, where the results share is visible to the command.
 * The host's /run is covered by a guest tmpfs (its host contents mean nothing
 * in the guest); the host's /tmp stays visible, read-only, so that files the
 * host prepared there (a bundle in os.tmpdir()) can be run.
 */
export const GUEST_OUT_DIR = '/run/gmemtest-out';
/** TMPDIR for the command: writable, in the same guest tmpfs. */
export const GUEST_TMPDIR = '/run/tmp';
/** Files /init writes in the results share. */
export const OUT_STDOUT = 'stdout';
export const OUT_EXIT = 'exit';

export const MARK = '@@gmemtest';

/** The stages /init stamps (`t <stage> <uptime-s>`), in order. */
export const STAGE = {
  init: 'init',
  modules: 'modules',
  commandStart: 'command-start',
  commandEnd: 'command-end',
} as const;

/** The keys of the console protocol. */
export const KEY = {
  /** `t <stage> <guest uptime in s>`: /init reached a stage. */
  stage: 't',
  /** `release <uname -r>`. */
  release: 'release',
  /** `error <step> <detail>`: a step of /init failed; the guest powers off. */
  error: 'error',
  /** `note <text>`. */
  note: 'note',
  /** `exit <code>`: the command's exit code. */
  exit: 'exit',
  /** `out <line>`: a line of the command's stdout, when the results share could not be mounted. */
  out: 'out',
  /** `done`: /init is about to power off. */
  done: 'done',
} as const;

/**
 * The shell side: functions /init defines first. `mark KEY VALUE...` prints a protocol
 * line, `stamp STAGE` a stage with the guest's uptime, `fail STEP...` an error (then
 * powers off).
 */
export function shellFunctions(): string[] {
  return [
    `mark() { echo "${MARK} $*"; }`,
    `stamp() { read -r up _ < /proc/uptime; mark ${KEY.stage} "$1" "$up"; }`,
    'fail() {',
    `  mark ${KEY.error} "$*"`,
    '  sync',
    '  poweroff -f',
    '  exit 1',
    '}',
  ];
}

/** What the host learnt from the console, as the lines came. */
export interface Marks {
  /** Stage -> host ms since QEMU started, and the guest's uptime then. */
  readonly stages: Map<string, { hostMs: number; guestS: number }>;
  release?: string;
  readonly errors: string[];
  readonly notes: string[];
  exit?: number;
  /** The command's stdout, when it came over the console. */
  readonly outLines: string[];
}

export const emptyMarks = (): Marks => ({ stages: new Map(), errors: [], notes: [], outLines: [] });

/** Records one console line (`ms` after QEMU started) if it carries a mark. */
export function recordMark(line: string, ms: number, marks: Marks): void {
  const i = line.indexOf(`${MARK} `);
  if (i < 0) return;
  const rest = line.slice(i + MARK.length + 1);
  const sp = rest.indexOf(' ');
  const key = sp < 0 ? rest : rest.slice(0, sp);
  const value = sp < 0 ? '' : rest.slice(sp + 1);
  switch (key) {
    case KEY.stage: {
      const [stage, up] = value.split(' ');
      if (stage) marks.stages.set(stage, { hostMs: ms, guestS: Number(up) });
      break;
    }
    case KEY.release:
      marks.release = value.trim();
      break;
    case KEY.error:
      marks.errors.push(value);
      break;
    case KEY.note:
      marks.notes.push(value);
      break;
    case KEY.exit:
      marks.exit = Number(value);
      break;
    case KEY.out:
      marks.outLines.push(value);
      break;
  }
}
