/** What the canary's tasks are given: the mesh and xDS ports, the deployment store, the workflow engine, metrics. */
import type { LifecycleSettings } from '../../domain/lifecycle.js';
import type { MetricsProvider } from '../../ports/metrics-provider.js';
import type { UseCaseDeps } from '../deps.js';
import type { Publish } from '../coalescing-publisher.js';
import type { ReconcileDeps } from '../reconcile-mesh.js';

export interface CanarySettings extends LifecycleSettings {
  /** The service lock's lease; every wait renews it. */
  lockLeaseMs: number;
}

export interface CanaryDeps extends ReconcileDeps, Pick<UseCaseDeps, 'deployments' | 'workflow' | 'analysis' | 'settings'> {
  /** By configured provider name. */
  metrics: ReadonlyMap<string, MetricsProvider>;
  /** Publishing shared by the canaries of this process (usecases/coalescing-publisher.ts); default: each publishes alone. */
  publish?: Publish;
}
