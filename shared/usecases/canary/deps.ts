/** What the canary's tasks are given: the mesh and xDS ports, the deployment store, the workflow engine, metrics. */
import type { MetricsProvider } from '../../ports/metrics-provider.js';
import type { UseCaseDeps } from '../deps.js';
import type { Publish } from '../coalescing-publisher.js';
import type { ReconcileDeps } from '../reconcile-mesh.js';

export interface CanarySettings {
  /** The service lock's lease; every task of a live run renews it (a hold for as long as it lasts, plus this). */
  lockLeaseMs: number;
  /** crossfade.yaml `policy.recheckSeconds`: a run held by a refusal that cannot say when it ends asks again after this long (policy-gate.ts); default 60. */
  policyRecheckSeconds?: number;
}

export interface CanaryDeps extends ReconcileDeps, Pick<UseCaseDeps, 'deployments' | 'activeRuns' | 'slots' | 'workflow' | 'analysis' | 'settings' | 'crashPoints' | 'policyRules' | 'rulesServices' | 'notifier'> {
  /** By configured provider name. */
  metrics: ReadonlyMap<string, MetricsProvider>;
  /** Publishing shared by the canaries of this process (usecases/coalescing-publisher.ts), for the Envoy router; default: one per deps (router-of.ts). */
  publish?: Publish;
  /**
   * How many attempts the state machine gives `action` when it fails with `errorName` (its Retry
   * policy, workflow/retry-budget.ts), for the "retrying … attempt 2 of 7" of progress; null: unknown.
   */
  retryBudget?: (action: string, errorName: string) => number | null;
}
