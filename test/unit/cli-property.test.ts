// Property: whatever the argv, the CLI either runs (exit 0, 1 or 4) or says what is wrong
// in one line on stderr and exits 2. It never throws and never prints a stack trace.
import fc from 'fast-check';
import t from 'tap';
import { main } from '../../src/cli/program.js';

const OPTIONS = ['--device', '--format', '--filter', '--vm-type', '--matrix', '--xfail', '--list', '--repeat',
  '--json', 'caps', '--help', '-h', '--version', '-V', '--', '-', '--frobnicate', '-x'];
const VALUES = ['/nonexistent', '/dev/null', 'ktap', 'json', 'pretty', 'xml', '*', '', 'default', 'sev', 'bogus',
  '99', '-1', 'all', 'upstream', '0', '3', '1e9', '[z-a]', '[', 'a[b', 'x'.repeat(300), '\u00e9\u0000', '*fallocate*'];

const arg = fc.oneof(fc.constantFrom(...OPTIONS), fc.constantFrom(...VALUES), fc.string({ maxLength: 12 }));

t.test('any argv: a result or one usage line', async (t) => {
  await fc.assert(fc.asyncProperty(fc.array(arg, { maxLength: 6 }), async (argv) => {
    // Always point at a device that does not exist: the property is about parsing,
    // and this keeps each run short (a valid argv then skips with exit 4).
    const args = ['--device', '/nonexistent/kvm', ...argv];
    let out = '';
    let err = '';
    const code = await main(args, { out: (s) => { out += s; }, err: (s) => { err += s; } });
    if (![0, 2, 4].includes(code)) throw new Error(`exit ${code} for ${JSON.stringify(args)}`);
    if (/\n\s+at /.test(err) || /\n\s+at /.test(out)) throw new Error(`stack trace for ${JSON.stringify(args)}`);
    if (code === 2) {
      const lines = err.split('\n').filter(Boolean);
      if (lines.length !== 1 || !lines[0]!.startsWith('gmemtest: ')) throw new Error(`usage error not one line: ${JSON.stringify(err)}`);
    }
  }), { numRuns: 400, seed: Number(process.env.GMEMTEST_FC_SEED ?? Date.now() % 2 ** 31) });
  t.pass('property held');
});
