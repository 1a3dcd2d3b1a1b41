// The shipped known-failure file of this project's development host (6.18.44 with the
// kvm_pvm nested hypervisor): where that module is loaded, the end-to-end tests run
// gmemtest with it, so its three known kernel differences read XFAIL; anywhere else
// (a stock kernel), without it, so an XPASS could never hide there.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadXfail, type XfailRule } from '../../src/runner/xfail.js';

export const KNOWN_FAILURES = fileURLToPath(new URL('../../fixtures/xfail-kvm-pvm.txt', import.meta.url));

export const onDevelopmentHost = (): boolean => existsSync('/sys/module/kvm_pvm');

/** `--xfail <file>` on the development host, nothing elsewhere. */
export const knownFailureArgs = (): string[] => (onDevelopmentHost() ? ['--xfail', KNOWN_FAILURES] : []);

/** The same file's rules, for a plan run in the test's own process. */
export const knownFailureRules = (): XfailRule[] => (onDevelopmentHost() ? loadXfail(KNOWN_FAILURES) : []);
