// --format pretty's colour choice: NO_COLOR turns it off unless FORCE_COLOR asks for it.
import t from 'tap';
import { chalkFor } from '../../src/cli/colour.js';
import { gmemtest, kvmUnavailable } from '../helpers/kvm.js';

t.test('NO_COLOR wins over an empty FORCE_COLOR', async (t) => {
  t.equal(chalkFor({ NO_COLOR: '1' }).level, 0, 'NO_COLOR=1: no colour');
  t.equal(chalkFor({ NO_COLOR: '1', FORCE_COLOR: '' }).level, 0, 'an empty FORCE_COLOR does not force');
});

t.test('the pretty output, as a user gets it', { skip: kvmUnavailable() ?? false }, async (t) => {
  const esc = /\x1b\[/;
  const forced = gmemtest(['--format', 'pretty', '--filter', 'default_vm.flags-none.file_size'], { FORCE_COLOR: '1', NO_COLOR: '1' });
  t.match(forced.stdout, esc, 'FORCE_COLOR=1 colours even with NO_COLOR set');
  const plain = gmemtest(['--format', 'pretty', '--filter', 'default_vm.flags-none.file_size'], { NO_COLOR: '1', FORCE_COLOR: '' });
  t.notMatch(plain.stdout, esc, 'NO_COLOR=1: no escape sequences');
  t.match(plain.stdout, /PASS\s+file_size/);
});
