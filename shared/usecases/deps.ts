/** What use cases are given: ports only, built once per cold start by the entry point. */
import type { ConfiguredCluster } from '../domain/mesh.js';
import type { AuditLog } from '../ports/audit-log.js';
import type { Clock } from '../ports/clock.js';
import type { DeploymentStore } from '../ports/deployment-store.js';
import type { IdGenerator } from '../ports/ids.js';
import type { IdempotencyStore } from '../ports/idempotency-store.js';
import type { Logger } from '../ports/logger.js';
import type { ServiceLockStore } from '../ports/service-lock.js';

export interface UseCaseDeps {
  deployments: DeploymentStore;
  idempotency: IdempotencyStore;
  audit: AuditLog;
  locks: ServiceLockStore;
  clock: Clock;
  ids: IdGenerator;
  logger: Logger;
  /** The configured clusters (crossfade.yaml). */
  clusters: readonly ConfiguredCluster[];
}
