/**
 * Suite `dataplane`: the figures of the mesh and data-plane issue.
 *
 * - `snapshots`: build and consistency-check the 4 proxy groups' snapshots of 1,000 and 10,000 services.
 * - `rest-poll`: a REST discovery poll that is current (304) and one that is not (200), 10,000 services.
 * - `haproxy-split`: one split on 1, 4 and 16 local HAProxys until verified, Runtime API vs config reload.
 * - `reconcile`: reconciling 10,000 registered services with no drift.
 * - `sidecar`: a sidecar group of a service with 20 dependencies at 10,000 services: snapshot bytes against the full group's, publish ms.
 * - `incremental`: a traffic step's publish and a behind Envoy's REST EDS bytes at 100, 1,000 and 10,000 services.
 */
import type { Suite } from '../lib/suite.js';
import { AIMS } from './aims.js';
import { measureHaproxySplit } from './haproxy-split.js';
import { measureIncremental } from './incremental.js';
import { measureReconcile } from './reconcile.js';
import { measureRestPoll } from './rest-poll.js';
import { measureSidecar } from './sidecar.js';
import { measureSnapshots } from './snapshots.js';

export const dataplane: Suite = {
  name: 'dataplane',
  summary: 'xDS snapshots, REST discovery polls, HAProxy split convergence, reconciliation at 10,000 services',
  aims: AIMS,
  scenarios: [
    { name: 'snapshots', summary: 'build + consistency check of 4 groups at 1,000 and 10,000 services', run: measureSnapshots },
    { name: 'rest-poll', summary: 'REST discovery polls, current (304) and not (200), 10,000 services, with DynamoDB reads per poll', run: measureRestPoll },
    { name: 'haproxy-split', summary: 'one split on 1/4/16 HAProxys until verified: Runtime API vs rewrite + reload', run: measureHaproxySplit },
    { name: 'incremental', summary: 'one traffic step published incrementally (2 groups) and a behind Envoy over REST EDS, at 100/1,000/10,000 services', run: measureIncremental },
    { name: 'sidecar', summary: 'a sidecar group of a service with 20 dependencies at 10,000 services: its snapshot against the full one, publish p50/p99', run: measureSidecar },
    { name: 'reconcile', summary: 'reconcileMesh over 10,000 registered services, twice (the second finds no drift)', run: measureReconcile },
  ],
};
