/** Process entry: run the CLI, keep stdout whole, set the exit code. */
import { processIo } from './io.js';
import { main } from './program.js';

// A reader that goes away (`gmemtest | head`) is not an error of ours.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

main(process.argv.slice(2), processIo).then(
  (code) => { process.exitCode = code; },
  (e: unknown) => {
    process.stderr.write(`gmemtest: internal error: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
