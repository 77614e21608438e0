/**
 * Suite `policy` (issue 10): what the business rules cost a create.
 *
 * - `evaluation`: judging one create with 50 rules of every kind, pure (µs).
 * - `create`: POST /v1/deployments through the local stack with no rules and with those 50 (ms).
 */
import type { Suite } from '../lib/suite.js';
import { AIMS } from './aims.js';
import { measureCreate } from './create.js';
import { measureEvaluation } from './evaluation.js';

export const policy: Suite = {
  name: 'policy',
  summary: 'policy evaluation per create with 50 rules; create latency with and without them',
  aims: AIMS,
  scenarios: [
    { name: 'evaluation', summary: '50 rules of every kind judging one create, pure', run: measureEvaluation },
    { name: 'create', summary: 'create latency on the local stack: no rules, 50 rules', run: measureCreate },
  ],
};
