/**
 * A real `npm start` (tsx local/main.ts on its embedded store) for the run-job suites: one HAProxy
 * serving every service's backend, a fake Prometheus whose canary series pass the judge for some
 * services and fail it for others, the `golden` template the shipped Job's `--analysis` names, and
 * a token scoped like the one the Job gets (`deploy:runjob-*`). Waits are shortened so a plan of
 * minutes runs in seconds (CROSSFADE_LOCAL_WAIT_MS).
 */
import { haproxyBackendName } from '../../shared/adapters/haproxy/haproxy-router.js';
import { hashToken } from '../../shared/http/auth.js';
import type { StatusDocument } from '../../shared/http/status-document.js';
import { ChaosNode } from './chaos.js';
import { errorRateTemplate, series, startFakePrometheus, type FakePrometheus } from './fake-clouds/prometheus.js';
import { startHaproxy, type HaproxyInstance } from './haproxy.js';
import { LOOPBACK_CIDRS } from './mesh-builders.js';

export const RUN_JOB_TOKEN = 'cf_run_job_test_token_0123456789abcdef';
export const RUN_JOB_SCOPE = 'deploy:runjob-*';
const GROUP = 'edge-use1';

export interface RunJobStack {
  node: ChaosNode;
  url: string;
  stop(): Promise<void>;
}

/** Both versions (v1, v2) of every service registered; the canary (v2) of `failing` ones is judged worse. */
export async function startRunJobStack(name: string, services: { passing: readonly string[]; failing: readonly string[] }): Promise<RunJobStack> {
  const all = [...services.passing, ...services.failing];
  const haproxy: HaproxyInstance = await startHaproxy(name, all.map((service) => ({ name: haproxyBackendName(service) })));
  const prometheus: FakePrometheus = await startFakePrometheus({
    range: (expression) => {
      const service = /service="([^"]+)"/.exec(expression)?.[1] ?? '';
      return series(expression.includes('version="v2"') && services.failing.includes(service) ? 0.3 : 0.01);
    },
  });
  const node = await ChaosNode.create({
    name,
    store: 'embedded',
    config: config(haproxy, prometheus),
    env: { CROSSFADE_LOCAL_WAIT_MS: '300', CROSSFADE_LOCAL_RETRY_MS: '500' },
  });
  await node.up();
  for (const service of all) {
    for (const [index, version] of ['v1', 'v2'].entries()) {
      await node.must('PUT', `/v1/services/${service}/versions/${version}`, {
        targets: [{ cloud: 'aws', cluster: 'eks-use1', namespace: service, kubernetesService: `${service}-${version}`, port: 8080, endpoints: [{ address: '127.0.0.1', port: 20_001 + index }] }],
      }, 201);
    }
  }
  return {
    node,
    url: `http://127.0.0.1:${node.port}`,
    async stop() {
      await node.stop();
      await prometheus.stop();
      await haproxy.stop();
    },
  };
}

function config(haproxy: HaproxyInstance, prometheus: FakePrometheus): Record<string, unknown> {
  return {
    clusters: [{ name: 'eks-use1', cloud: 'aws', region: 'us-east-1' }],
    proxyGroups: [{ name: GROUP, kind: 'haproxy', cloud: 'aws', region: 'us-east-1', proxies: [haproxy.proxy] }],
    mesh: { allowedEndpointCidrs: LOOPBACK_CIDRS },
    tokens: [{ id: 'spinnaker-run-job', sha256: hashToken(RUN_JOB_TOKEN), scopes: [RUN_JOB_SCOPE] }],
    analysis: {
      providers: [{ name: 'prom', kind: 'prometheus', url: prometheus.url }],
      // The template the shipped Job's --analysis names.
      templates: [errorRateTemplate('golden', 'prom')],
    },
  };
}

/**
 * The outputs a promoted deployment's Run Job must give, from its final status document as the API
 * serves it: the deployment, v2 at 100%, and every judgment's score and classification per
 * analysis step in the order they were made.
 */
export function promotedOutputsOf(doc: StatusDocument): Record<string, unknown> {
  const judgments = doc.result!['judgments'] as { stepIndex: number; score: number; classification: string }[];
  const steps = [...new Set(judgments.map((j) => j.stepIndex))];
  return {
    deploymentId: doc.id,
    service: doc.service,
    canary: 'v2',
    baseline: 'v1',
    status: 'SUCCEEDED',
    phase: 'SUCCEEDED',
    weights: { aws: { v1: 0, v2: 100 } },
    canaryPercent: { aws: 100 },
    result: { outcome: 'promoted', reason: doc.result!['reason'] },
    analyses: steps.map((stepIndex) => ({
      stepIndex,
      scores: judgments.filter((j) => j.stepIndex === stepIndex).map((j) => j.score),
      classifications: judgments.filter((j) => j.stepIndex === stepIndex).map((j) => j.classification),
    })),
    crossfade_deployment_id: doc.id,
    crossfade_status: 'SUCCEEDED',
    crossfade_canary_percent_aws: '100',
  };
}

/** The outputs of a deployment the judge rolled back at its first judgment, and the termination message that says why. */
export function rolledBackOutputsOf(doc: StatusDocument): { outputs: Record<string, unknown>; termination: string } {
  return {
    outputs: {
      deploymentId: doc.id,
      status: 'TERMINAL',
      phase: 'ROLLED_BACK',
      weights: { aws: { v1: 100, v2: 0 } },
      result: { outcome: 'rolled back', reason: doc.result!['reason'] },
      analyses: [{ scores: [0], classifications: ['Fail'] }],
      crossfade_status: 'TERMINAL',
      crossfade_outcome: 'rolled back',
    },
    termination: `deployment ${doc.id} of ${doc.service} ended TERMINAL (ROLLED_BACK): ${String(doc.result!['reason'])}`,
  };
}
