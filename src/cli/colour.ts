/** A chalk instance for stdout, honouring NO_COLOR (https://no-color.org) and FORCE_COLOR. */
import { Chalk, supportsColor, type ChalkInstance } from 'chalk';

export function chalkFor(env: NodeJS.ProcessEnv = process.env): ChalkInstance {
  const forced = env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '';
  if (!forced && env.NO_COLOR !== undefined && env.NO_COLOR !== '') return new Chalk({ level: 0 });
  return new Chalk({ level: supportsColor ? supportsColor.level : 0 });
}
