/** The status document (docs/api.md): what Spinnaker's webhook stage polls and matches on. */
import { statusOf, type Deployment, type DeploymentStatus, type Phase, type Weights } from '../domain/deployment.js';
import { describeProgress } from '../domain/progress.js';

export interface StatusDocument {
  id: string;
  service: string;
  status: DeploymentStatus;
  progress: string;
  phase: Phase;
  step: { index: number; count: number };
  planHash: string;
  baseline: string | null;
  canary: string;
  weights: Weights;
  statusUrl: string;
  cancelUrl: string;
  result: Record<string, unknown> | null;
  /** Proxy groups the last traffic step could not verify (they list no proxies): written and published, never confirmed. */
  unverified: string[];
  /** The task being retried now, if any ("retrying … attempt 2 of 7" in progress says the same). */
  retrying: { action: string; attempt: number; maxAttempts: number | null; reason: string; at: string } | null;
  createdAt: string;
  updatedAt: string;
}

export function deploymentUrl(baseUrl: string, id: string): string {
  return `${baseUrl}/v1/deployments/${encodeURIComponent(id)}`;
}

export function statusDocument(d: Deployment, baseUrl: string): StatusDocument {
  const statusUrl = deploymentUrl(baseUrl, d.id);
  return {
    id: d.id,
    service: d.service,
    status: statusOf(d.phase),
    progress: describeProgress(d),
    phase: d.phase,
    step: { index: d.stepIndex, count: d.steps.length },
    planHash: d.planHash,
    baseline: d.baseline?.version ?? null,
    canary: d.canary.version,
    weights: d.weights,
    statusUrl,
    cancelUrl: `${statusUrl}/cancel`,
    result: d.result,
    unverified: d.run.unverified,
    retrying: d.retrying && d.retrying.atVersion === d.version ? { action: d.retrying.action, attempt: d.retrying.attempt, maxAttempts: d.retrying.maxAttempts, reason: d.retrying.reason, at: d.retrying.at } : null,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
  };
}
