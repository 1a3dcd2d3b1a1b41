// --format pretty's colour choice: NO_COLOR turns it off unless FORCE_COLOR asks for it.
import t from 'tap';
import { chalkFor } from '../../src/cli/colour.js';

t.test('NO_COLOR and FORCE_COLOR', async (t) => {
  t.equal(chalkFor({ NO_COLOR: '1' }).level, 0, 'NO_COLOR=1: no colour');
  t.equal(chalkFor({ NO_COLOR: '1', FORCE_COLOR: '' }).level, 0, 'an empty FORCE_COLOR does not force');
  t.equal(chalkFor({ NO_COLOR: '1', FORCE_COLOR: '1' }).red('x'), chalkFor({ FORCE_COLOR: '1' }).red('x'),
    'a non-empty FORCE_COLOR leaves it to chalk, which reads FORCE_COLOR');
});
