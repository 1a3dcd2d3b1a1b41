/** The command line (commander): options, validation, and dispatch to the commands. */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_DEVICE } from '../kvm/kvm.js';
import { parseVmType, VM_TYPES } from '../kvm/vm-types.js';
import { globToRegExp } from '../runner/plan.js';
import { BOOT_ARCHES } from '../boot/machine.js';
import { bootCommand, cpusArg, memoryArg, numaArg, timeoutArg, type BootCommandOptions } from './boot-command.js';
import { capsCommand } from './caps-command.js';
import { EXIT_PASS, EXIT_USAGE, UsageError } from './exit-codes.js';
import type { Io } from './io.js';
import { FORMATS, runCommand, type RunCommandOptions } from './run-command.js';
import type { ReportCommandOptions } from './report-command.js';
import { DEFAULT_KCIDB_ORIGIN, KCIDB_ORIGIN } from '../runner/kcidb.js';
import { packageVersion } from './version.js';

function vmTypeArg(v: string, prev: number[]): number[] {
  const t = parseVmType(v);
  if (t === null) throw new InvalidArgumentError(`unknown VM type (use a number 0-63 or one of ${VM_TYPES.map((x) => x.name).join(', ')})`);
  return prev.includes(t) ? prev : [...prev, t];
}

function repeatArg(v: string): number {
  if (!/^\d+$/.test(v.trim()) || Number(v) < 1 || Number(v) > 100000) throw new InvalidArgumentError('expected a whole number from 1 to 100000');
  return Number(v);
}

function kcidbOriginArg(v: string): string {
  if (!KCIDB_ORIGIN.test(v)) throw new InvalidArgumentError('a KCIDB origin is lower-case letters, digits and _');
  return v;
}

function filterArg(v: string, prev: string[]): string[] {
  if (v.trim() === '') throw new InvalidArgumentError('empty filter');
  try {
    globToRegExp(v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
  return [...prev, v];
}

/** Runs the CLI on `argv` (without node and script); resolves to the exit code. */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  const version = packageVersion();
  let code = EXIT_PASS;
  const program = new Command('gmemtest')
    .description('Run the guest_memfd conformance cases of guest_memfd_test.c on this host\'s KVM; report KTAP.')
    .version(version, '-V, --version')
    .addOption(new Option('--device <path>', 'KVM device to open').default(DEFAULT_DEVICE))
    .addOption(new Option('--format <format>', 'output format').choices([...FORMATS]).default('ktap'))
    .addOption(new Option('--kcidb-origin <origin>', 'KCIDB origin of --format kcidb ([a-z0-9_]+)').argParser(kcidbOriginArg).default(DEFAULT_KCIDB_ORIGIN))
    .addOption(new Option('--filter <glob>', 'run only test ids matching the glob (repeatable; * matches dots)').argParser(filterArg).default([]))
    .addOption(new Option('--vm-type <type>', 'test only this VM type, by name or number (repeatable)').argParser(vmTypeArg).default([]))
    .addOption(new Option('--matrix <mode>', 'flag sets: every subset of the supported flags, or upstream\'s three').choices(['all', 'upstream']).default('all'))
    .addOption(new Option('--repeat <n>', 'run each selected case n times, ids suffixed -iter1..-iterN (--xfail globs match the id without it)').argParser(repeatArg).default(1))
    .option('--xfail <file>', 'known failures: lines of "<test-id glob> <reason>"')
    .option('--list', 'print the ids of the tests that would run, and exit')
    .exitOverride()
    // The run's options belong before a subcommand: `boot --format json` is an error, not a silent no-op.
    .enablePositionalOptions()
    .configureOutput({
      writeOut: (s) => io.out(s),
      writeErr: (s) => io.err(s),
      outputError: (s, write) => write(`gmemtest: ${s.replace(/^error: /, '').trim().split('\n')[0]}\n`),
    })
    .action(async (opts: RunCommandOptions) => {
      code = await runCommand(opts, io, version);
    });

  program.command('caps')
    .description('print what this host\'s KVM supports for guest_memfd')
    .addOption(new Option('--device <path>', 'KVM device to open').default(DEFAULT_DEVICE))
    .option('--json', 'print JSON')
    .action(async (opts: { device: string; json?: boolean }) => {
      code = await capsCommand(opts, io);
    });

  program.command('boot')
    .description('boot a kernel under QEMU and run gmemtest inside it; the guest\'s KTAP is a subtest named for the release')
    .usage('--kernel <vmlinuz> [options] [-- <gmemtest args>]')
    .requiredOption('--kernel <path>', 'kernel image (bzImage/vmlinuz)')
    .option('--modules <dir>', 'the kernel\'s modules dir, holding modules.dep (default: looked up next to the kernel)')
    .option('--kvm-modules <dir>', 'rebuilt kvm*.ko(.xz/.zst) that replace the kernel\'s own for this boot (vermagic must match)')
    .addOption(new Option('--numa <n>', 'NUMA nodes').argParser(numaArg).default(1))
    .addOption(new Option('--cpus <n>', 'vCPUs').argParser(cpusArg).default(2))
    .addOption(new Option('--memory <size>', 'guest memory (e.g. 2G, 1536M)').argParser(memoryArg).default('2G'))
    .addOption(new Option('--timeout <s>', 'kill QEMU after this many seconds').argParser(timeoutArg).default(300))
    .addOption(new Option('--accel <accel>', 'QEMU accelerator').choices(['tcg', 'kvm']).default('tcg'))
    .addOption(new Option('--arch <arch>', 'the guest\'s architecture (default: the kernel image\'s)').choices([...BOOT_ARCHES]))
    .addOption(new Option('--format <format>', 'output: nested KTAP, or one result per case named by its id').choices(['ktap', 'ktap-flat']).default('ktap'))
    .option('--verbose', 'copy the guest console to stderr')
    .argument('[gmemtest-args...]', 'arguments for gmemtest in the guest (after --)')
    .action(async (args: string[], opts: BootCommandOptions) => {
      code = await bootCommand(opts, args, io, version);
    });

  program.command('report')
    .description('merge results (--format json files, gmemtest and gmemtest boot KTAP, or directories of them) into one matrix')
    .argument('<result...>', 'result files or directories')
    .option('--markdown', 'print Markdown (a PR comment, a CI job summary) instead of the table')
    .option('--html <file>', 'also write the matrix as one self-contained HTML page')
    .option('--kcidb', 'print KernelCI KCIDB I/O JSON instead of the table')
    .addOption(new Option('--kcidb-origin <origin>', 'KCIDB origin ([a-z0-9_]+)').argParser(kcidbOriginArg).default(DEFAULT_KCIDB_ORIGIN))
    .option('--only-differences', 'leave out the cases every run gives the same status')
    .option('--only-failures', 'leave out the cases no run failed')
    .action(async (files: string[], opts: ReportCommandOptions) => {
      code = (await import('./report-command.js')).reportCommand(files, opts, io, version);
    });

  program.commands.forEach((cmd) => cmd.exitOverride().configureOutput(program.configureOutput()));

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT_PASS : EXIT_USAGE;
    if (e instanceof UsageError) {
      io.err(`gmemtest: ${e.message}\n`);
      return EXIT_USAGE;
    }
    throw e;
  }
}
