/** Process entry: run the CLI, keep stdout whole and valid KTAP, set the exit code. */
import { internalErrorDocument } from '../ktap/writer.js';
import { processIo, stdoutStarted } from './io.js';

// A reader that goes away (`gmemtest | head`) is not an error of ours.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

/**
 * Anything unexpected still ends the output validly, exit 1. Before any output: a
 * document of one failed result. During a run the run command has closed every plan
 * already (its cases not reached reported not run), so only stderr is left to tell.
 */
function fatal(e: unknown): void {
  const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  if (!stdoutStarted()) process.stdout.write(internalErrorDocument(msg));
  process.stderr.write(`gmemtest: internal error: ${e instanceof Error ? e.stack ?? e.message : msg}\n`);
  process.exitCode = 1;
}

// Loaded with import() so that a failure to load the program (EMFILE under a low
// open-file limit, say) is reported like any other.
import('./program.js')
  .then(({ main }) => main(process.argv.slice(2), processIo))
  .then((code) => { process.exitCode = code; }, fatal);
