/**
 * Suite `foundation`: what every later figure stands on.
 *
 * - `bundles`: size of each built bundle, and its cold init: importing it in a fresh Node process.
 * - `api`: latency and throughput of create, read and list on the local stack, over the embedded
 *   store and over DynamoDB Local.
 */
import type { Suite } from '../lib/suite.js';
import { measureApi } from './api.js';
import { AIMS } from './aims.js';
import { measureBundles } from './bundles.js';

export const foundation: Suite = {
  name: 'foundation',
  summary: 'bundle sizes and cold init; local API latency on the embedded store and DynamoDB Local',
  aims: AIMS,
  scenarios: [
    { name: 'bundles', summary: 'bundle size, gzip size, cold import in a fresh Node', run: measureBundles },
    { name: 'api', summary: 'POST/GET/list latency and throughput on the local stack', run: measureApi },
  ],
};
