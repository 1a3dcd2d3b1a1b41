// What the CLI does with input it cannot use: one line on stderr and a documented exit code.
import t from 'tap';
import { gmemtest, kvmUnavailable } from '../helpers/kvm.js';

t.test('a device that does not exist: KTAP skip-all, exit 4', async (t) => {
  const r = gmemtest(['--device', '/nonexistent']);
  t.equal(r.status, 4);
  t.match(r.stdout, /^KTAP version 1\n# gmemtest \S+: .*\n1\.\.1\n# cannot open \/nonexistent: ENOENT \(no such device\)\nok 1 gmemtest # SKIP no usable KVM device\n# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:1 error:0\n$/);
});

t.test('a device that is not KVM: exit 4 naming the cause', async (t) => {
  for (const [dev, why, reason] of [['/dev/null', /not a KVM device.*ENOTTY/, 'not a KVM device'], ['/tmp', /EISDIR/, 'no usable KVM device'],
    ['/etc/hostname', /not a KVM device/, 'not a KVM device']] as const) {
    const r = gmemtest(['--device', dev]);
    t.equal(r.status, 4, dev);
    t.match(r.stdout, new RegExp(`^ok 1 gmemtest # SKIP ${reason}$`, 'm'), dev);
    t.match(r.stdout, why, dev);
  }
});

for (const [args, msg] of [
  [['--vm-type', 'bogus'], /unknown VM type/],
  [['--frobnicate'], /unknown option '--frobnicate'/],
  [['--format', 'xml'], /Allowed choices are ktap, ktap-flat, pretty, json, junit/],
  [['--matrix', 'some'], /Allowed choices are all, upstream/],
  [['--filter', ''], /empty filter/],
  [['extra-arg'], /too many arguments|unknown command/],
  [['--xfail', '/nonexistent/xfail.txt'], /\/nonexistent\/xfail.txt: cannot read/],
] as const) {
  t.test(`usage error: ${args.join(' ')}`, async (t) => {
    const r = gmemtest([...args]);
    t.equal(r.status, 2);
    t.equal(r.stdout, '');
    t.equal(r.stderr.split('\n').filter(Boolean).length, 1, 'one line on stderr');
    t.match(r.stderr, /^gmemtest: /);
    t.match(r.stderr, msg);
  });
}

t.test('a filter that matches nothing is a usage error', { skip: kvmUnavailable() ?? false }, async (t) => {
  const r = gmemtest(['--filter', 'no_such_case']);
  t.equal(r.status, 2);
  t.match(r.stderr, /^gmemtest: no test id matches --filter 'no_such_case'/);
});

t.test('--help and --version exit 0', async (t) => {
  const h = gmemtest(['--help']);
  t.equal(h.status, 0);
  t.match(h.stdout, /Usage: gmemtest/);
  for (const opt of ['--device', '--format', '--filter', '--vm-type', '--matrix', '--xfail', '--list']) t.match(h.stdout, opt);
  const v = gmemtest(['--version']);
  t.equal(v.status, 0);
  t.match(v.stdout, /^\d+\.\d+\.\d+\n$/);
});
