/** Exit codes, as kselftest defines them (tools/testing/selftests/kselftest.h). */
export const EXIT_PASS = 0;
export const EXIT_FAIL = 1;
export const EXIT_USAGE = 2;
export const EXIT_SKIP = 4;

/** A bad argument or input file: one line on stderr, exit 2. */
export class UsageError extends Error {}
