/** What the xDS use cases are given: the registry they build from, the store they publish to. */
import type { ProxyGroup } from '../domain/mesh.js';
import type { ContentHash } from '../engine/envoy/snapshot.js';
import type { Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import type { MeshRegistry } from '../ports/mesh-registry.js';
import type { PartStore } from '../ports/part-store.js';
import type { SnapshotStore } from '../ports/snapshot-store.js';

export interface XdsDeps {
  registry: MeshRegistry;
  /** What each proxy reports running (acknowledgements). */
  snapshots: SnapshotStore;
  /** The published snapshots: the per-service layout every publish writes and every reader reads. */
  parts: PartStore;
  proxyGroups: readonly ProxyGroup[];
  /** crossfade.yaml `mesh.alwaysVisible`: what every sidecar group sees besides its service's dependencies (usecases/sidecar-scope.ts). None when absent. */
  alwaysVisible?: readonly string[];
  clock: Clock;
  logger: Logger;
  /** A hex digest (sha256 in production): snapshot versions are content hashes every instance agrees on. */
  hash: ContentHash;
}

export type EnvoyGroup = Extract<ProxyGroup, { kind: 'envoy' }>;
