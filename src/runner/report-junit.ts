/**
 * JUnit XML (`--format junit`), as GitLab, Jenkins and GitHub test reports read it: one
 * `<testsuite>` per group path (`default_vm.flags-mmap`; cases at the top level go into
 * `gmemtest`), one `<testcase>` per case with the group path as classname, the host's
 * capabilities as `<properties>`. Built with xmlbuilder2, not by string concatenation.
 *
 * Status mapping, consistent with the Totals line (which counts TIMEOUT and XPASS as
 * failures): fail, timeout, xpass -> `<failure>`; error (a not-run case of an interrupted
 * run included) -> `<error>`; skip -> `<skipped message>`; xfail -> a pass whose
 * `<system-out>` says so. The diagnostics are the element's text.
 */
import { createRequire } from 'node:module';
import type { XMLBuilder } from 'xmlbuilder2/lib/interfaces.js';
import type { Outcome, Status, Totals } from './outcome.js';
import type { PlanNode } from './plan.js';
import type { Reporter, Write } from './reporter.js';

interface CaseRecord {
  readonly suite: string;
  readonly name: string;
  readonly o: Outcome;
}

const TOP_SUITE = 'gmemtest';

const seconds = (ms: number): string => (ms / 1000).toFixed(3);
/** An attribute value on one line (XML parsers turn a newline in an attribute into a space anyway). */
const oneLine = (s: string): string => s.replace(/\s+/g, ' ').trim();

const FAILURE: readonly Status[] = ['fail', 'timeout', 'xpass'];

/**
 * xmlbuilder2, required when the first document is built. A static import would be
 * hoisted to the top of the one-file bundle (dist/bundle/gmemtest.cjs) and load its
 * ~100 CommonJS files in every run, whatever the format: seconds inside a TCG guest.
 */
const xmlCreate = (): typeof import('xmlbuilder2').create =>
  (createRequire(import.meta.url)('xmlbuilder2') as typeof import('xmlbuilder2')).create;

export class JunitReporter implements Reporter {
  readonly #cases: CaseRecord[] = [];

  /** `properties`: name -> value, written into every suite (the host, gmemtest's version). */
  constructor(private readonly write: Write, private readonly properties: Readonly<Record<string, string>>) {}

  begin(): void {}
  enterGroup(): void {}

  result(node: PlanNode, _depth: number, _index: number, o: Outcome): void {
    if (node.children) return;
    const dot = node.id.lastIndexOf('.');
    this.#cases.push({ suite: dot < 0 ? TOP_SUITE : node.id.slice(0, dot), name: node.name, o });
  }

  end(_totals: Totals, interrupted?: string): void {
    const root = xmlCreate()({ version: '1.0', encoding: 'UTF-8' }).ele('testsuites', { name: 'gmemtest' });
    const suites = [...new Set(this.#cases.map((c) => c.suite))];
    let all = { tests: 0, failures: 0, errors: 0, skipped: 0, ms: 0 };
    for (const name of suites) {
      const mine = this.#cases.filter((c) => c.suite === name);
      const n = {
        tests: mine.length,
        failures: mine.filter((c) => FAILURE.includes(c.o.status)).length,
        errors: mine.filter((c) => c.o.status === 'error').length,
        skipped: mine.filter((c) => c.o.status === 'skip').length,
        ms: mine.reduce((t, c) => t + c.o.durationMs, 0),
      };
      all = { tests: all.tests + n.tests, failures: all.failures + n.failures, errors: all.errors + n.errors,
        skipped: all.skipped + n.skipped, ms: all.ms + n.ms };
      const suite = root.ele('testsuite', {
        name, tests: n.tests, failures: n.failures, errors: n.errors, skipped: n.skipped, time: seconds(n.ms),
      });
      this.#properties(suite, interrupted);
      for (const c of mine) this.#testcase(suite, c);
    }
    root.att({ tests: all.tests, failures: all.failures, errors: all.errors, skipped: all.skipped, time: seconds(all.ms) });
    this.write(`${root.end({ prettyPrint: true })}\n`);
  }

  #properties(suite: XMLBuilder, interrupted: string | undefined): void {
    const props = suite.ele('properties');
    for (const [name, value] of Object.entries(this.properties)) props.ele('property', { name, value });
    if (interrupted !== undefined) props.ele('property', { name: 'interrupted', value: interrupted });
  }

  #testcase(suite: XMLBuilder, c: CaseRecord): void {
    const tc = suite.ele('testcase', { classname: c.suite, name: c.name, time: seconds(c.o.durationMs) });
    const text = c.o.diagnostics.join('\n');
    const withText = (e: XMLBuilder): void => { if (text !== '') e.txt(text); };
    switch (c.o.status) {
      case 'pass':
        break;
      case 'skip':
        tc.ele('skipped', { message: oneLine(c.o.reason ?? '') });
        if (text !== '') tc.ele('system-out').txt(text);
        break;
      case 'xfail':
        tc.ele('system-out').txt([`XFAIL: ${c.o.reason ?? ''}`, ...c.o.diagnostics].join('\n'));
        break;
      case 'fail':
        withText(tc.ele('failure', { type: 'fail', message: oneLine(c.o.diagnostics[0] ?? 'failed') }));
        break;
      case 'timeout':
        withText(tc.ele('failure', { type: 'timeout', message: oneLine(`TIMEOUT: ${c.o.reason ?? ''}`) }));
        break;
      case 'xpass':
        withText(tc.ele('failure', { type: 'xpass', message: oneLine(`XPASS: passed, but the --xfail file expects a failure: ${c.o.reason ?? ''}`) }));
        break;
      case 'error':
        withText(tc.ele('error', { type: 'error', message: oneLine(c.o.reason ?? 'error') }));
        break;
    }
  }
}
