/**
 * Every bench suite, by name: `tsx bench/run.ts <name>` runs one. A new suite is a file beside
 * this one (bench/<name>.ts exporting a Suite) and one line here.
 */
import { canary } from './canary/index.js';
import { dataplane } from './dataplane/index.js';
import { foundation } from './foundation/index.js';
import type { Suite } from './lib/suite.js';
import { policy } from './policy/index.js';

export const suites: readonly Suite[] = [foundation, dataplane, canary, policy];
