/** What use cases are given: ports only, built once per cold start by the entry point. */
import type { ConfiguredCluster } from '../domain/mesh.js';
import type { AnalysisCatalog } from '../domain/plan.js';
import type { PolicyRule } from '../domain/policy/types.js';
import type { ActiveRuns } from '../ports/active-runs.js';
import type { AuditLog } from '../ports/audit-log.js';
import type { CanarySlots } from '../ports/canary-slots.js';
import type { Clock } from '../ports/clock.js';
import type { DeploymentStore } from '../ports/deployment-store.js';
import type { ConfiguredRulesService } from '../ports/external-rules.js';
import type { IdGenerator } from '../ports/ids.js';
import type { IdempotencyStore } from '../ports/idempotency-store.js';
import type { Logger } from '../ports/logger.js';
import type { MetricsProvider } from '../ports/metrics-provider.js';
import type { MeshRegistry } from '../ports/mesh-registry.js';
import type { ServiceLockStore } from '../ports/service-lock.js';
import type { CrashPoints } from '../ports/crash-points.js';
import type { Workflow } from '../ports/workflow.js';
import type { CanarySettings } from './canary/deps.js';
import type { Notifier } from './notify/enqueue.js';

export interface UseCaseDeps {
  deployments: DeploymentStore;
  /** The deployments whose run has not ended: what the sweeper drives to an end (usecases/resume-runs.ts). */
  activeRuns: ActiveRuns;
  /** The slots of the concurrency caps, claimed at create and released with the run (usecases/cap-slots.ts). */
  slots: CanarySlots;
  idempotency: IdempotencyStore;
  audit: AuditLog;
  locks: ServiceLockStore;
  registry: MeshRegistry;
  workflow: Workflow;
  clock: Clock;
  ids: IdGenerator;
  logger: Logger;
  /** The configured clusters (crossfade.yaml). */
  clusters: readonly ConfiguredCluster[];
  /** The analysis templates and metrics providers a plan may name (crossfade.yaml `analysis`). */
  analysis: AnalysisCatalog;
  /** The metrics providers by configured name: the judge's, and the creation's preflight of every analysis query. */
  metrics: ReadonlyMap<string, MetricsProvider>;
  settings: CanarySettings;
  /** The business rules (crossfade.yaml `policy.rules`, docs/policy.md); none by default. */
  policyRules: readonly PolicyRule[];
  /** The external rules services (crossfade.yaml `policy.external`), asked at every moment beside the rules; none by default. */
  rulesServices: readonly ConfiguredRulesService[];
  /** Where notifiable events are enqueued (usecases/notify/enqueue.ts); absent: no notifications configured. */
  notifier?: Notifier;
  /** Tests only: where the process may be made to die (ports/crash-points.ts). */
  crashPoints?: CrashPoints;
}
