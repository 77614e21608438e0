/**
 * What the long-running ADS server (`crossfade xds-server`) does with the snapshot store
 * (docs/architecture.md "Where config reaches the proxies"): it follows the published HEAD of every
 * Envoy group served over ADS, and stores what the gRPC nodes acknowledge.
 *
 * One poll reads each group's HEAD (one GetItem per group). Only when a HEAD names versions other
 * than those served are the resources of the changed types read; the unchanged types keep the
 * resources already served (same objects, so the server's encoding cache keeps working). A HEAD
 * the server refuses (inconsistent) is logged once and not re-read until the HEAD moves; a store
 * that cannot be read is retried at the next poll, and logged when a group's reads start failing
 * and when they succeed again, not at every poll. Either way the last good snapshot stays served.
 */
import { DEFAULT_XDS_TRANSPORT } from '../domain/mesh.js';
import type { Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import type { SnapshotStore, SnapshotToPublish, StoredResource } from '../ports/snapshot-store.js';
import type { EnvoyGroup, XdsDeps } from './xds-deps.js';

export type FollowDeps = Pick<XdsDeps, 'snapshots' | 'parts' | 'proxyGroups' | 'logger' | 'clock'>;

/** Serves a snapshot (the ADS server's `setSnapshot`): throws, and serves nothing, when it refuses it. */
export type ServeSnapshot = (group: string, snapshot: SnapshotToPublish) => void;

export type GroupPoll =
  /** Nothing has been published for the group yet. */
  | { group: string; outcome: 'none' }
  | { group: string; outcome: 'unchanged'; revision: number }
  | { group: string; outcome: 'served'; revision: number; typesRead: string[] }
  /** The server refused the HEAD's snapshot; the last good one stays served. */
  | { group: string; outcome: 'refused'; revision: number; reason: string }
  /** The store could not be read; retried at the next poll. */
  | { group: string; outcome: 'failed'; reason: string };

/** The Envoy groups served over ADS (`proxyGroups[].xds.api: ads`): the ones `crossfade xds-server` follows. */
export function adsGroups(proxyGroups: XdsDeps['proxyGroups']): EnvoyGroup[] {
  return proxyGroups.filter((g): g is EnvoyGroup => g.kind === 'envoy' && (g.xds ?? DEFAULT_XDS_TRANSPORT).api === 'ads');
}

export class PublishedSnapshotFollower {
  private readonly served = new Map<string, SnapshotToPublish>();
  /** Per group, the HEAD revision the server refused: not re-read until the HEAD moves. */
  private readonly refused = new Map<string, number>();
  /** The groups whose last poll could not read the store. */
  private readonly failing = new Set<string>();
  readonly groups: readonly string[];

  constructor(
    private readonly deps: Pick<FollowDeps, 'parts' | 'proxyGroups' | 'logger'>,
    private readonly serve: ServeSnapshot,
  ) {
    this.groups = adsGroups(deps.proxyGroups).map((g) => g.name);
  }

  /** One poll of every group, side by side. Never throws: failures are in the report, and logged. */
  async poll(): Promise<GroupPoll[]> {
    return Promise.all(this.groups.map(async (group) => this.noteReadable(await this.pollGroup(group))));
  }

  /** Logs a group's store reads starting to fail, and succeeding again: once per change, not per poll. */
  private noteReadable(poll: GroupPoll): GroupPoll {
    const { group } = poll;
    if (poll.outcome === 'failed' && !this.failing.has(group)) {
      this.failing.add(group);
      this.deps.logger.warn('xds snapshot store cannot be read; the last good snapshot stays served, retrying at every poll (logged again when it answers)', { group, error: poll.reason });
    } else if (poll.outcome !== 'failed' && this.failing.delete(group)) {
      this.deps.logger.info('xds snapshot store answers again', { group });
    }
    return poll;
  }

  private async pollGroup(group: string): Promise<GroupPoll> {
    const { parts } = this.deps;
    let head;
    try {
      head = await parts.head(group);
    } catch (error) {
      return { group, outcome: 'failed', reason: `HEAD not read: ${(error as Error).message}` };
    }
    if (!head) return { group, outcome: 'none' };
    const current = this.served.get(group);
    const versions = { ...head.versions };
    const changed = Object.keys(versions).filter((typeUrl) => current?.versions[typeUrl] !== versions[typeUrl] || current?.resources[typeUrl] === undefined);
    if (current && changed.length === 0 && Object.keys(current.versions).length === Object.keys(versions).length) {
      return { group, outcome: 'unchanged', revision: head.revision };
    }
    if (this.refused.get(group) === head.revision) return { group, outcome: 'refused', revision: head.revision, reason: 'refused before' };

    let read: StoredResource[][];
    try {
      read = await Promise.all(changed.map((typeUrl) => parts.resources(head, typeUrl)));
    } catch (error) {
      return { group, outcome: 'failed', reason: `resources of revision ${head.revision} not read: ${(error as Error).message}` };
    }
    const resources: Record<string, readonly StoredResource[]> = {};
    for (const typeUrl of Object.keys(versions)) {
      const index = changed.indexOf(typeUrl);
      resources[typeUrl] = index >= 0 ? read[index]! : current!.resources[typeUrl]!;
    }
    const snapshot: SnapshotToPublish = { group, resources, versions };
    try {
      this.serve(group, snapshot);
    } catch (error) {
      this.refused.set(group, head.revision);
      this.deps.logger.error('xds snapshot refused; the last good one stays served', { group, revision: head.revision, error: (error as Error).message });
      return { group, outcome: 'refused', revision: head.revision, reason: (error as Error).message };
    }
    this.served.set(group, snapshot);
    this.refused.delete(group);
    return { group, outcome: 'served', revision: head.revision, typesRead: changed };
  }
}

export interface AdsReport {
  nodeId: string;
  group: string;
  typeUrl: string;
  /** The version the node runs. */
  version: string;
  /** A NACK's: the version it rejected, and why. */
  rejected?: { version: string; message: string };
}

/**
 * Stores what gRPC nodes report, so GET /v1/services shows them beside the REST-polling Envoys.
 * An ACK records the version the node runs (recordAck). A NACK records the version the node keeps
 * running (recordAck) and the rejected version as handed to it (recordServed): the store's way of
 * naming a rejected version (ProxyAck.served: handed one version, reporting another). Writes for
 * one node and type are applied in order; a failed write is logged (the next report retries it).
 */
export class AdsReportRecorder {
  private readonly chains = new Map<string, Promise<void>>();

  constructor(private readonly deps: { snapshots: SnapshotStore; clock: Clock; logger: Logger }) {}

  record(report: AdsReport): void {
    const key = `${report.group}\n${report.nodeId}\n${report.typeUrl}`;
    const previous = this.chains.get(key) ?? Promise.resolve();
    const next = previous.then(() => this.write(report));
    this.chains.set(key, next);
    void next.then(() => {
      if (this.chains.get(key) === next) this.chains.delete(key);
    });
  }

  /** Resolves once every write recorded so far has been attempted. */
  async settled(): Promise<void> {
    while (this.chains.size > 0) await Promise.all([...this.chains.values()]);
  }

  private async write(report: AdsReport): Promise<void> {
    const at = this.deps.clock.now().toISOString();
    const base = { group: report.group, nodeId: report.nodeId, typeUrl: report.typeUrl, at };
    try {
      await this.deps.snapshots.recordAck({ ...base, version: report.version });
      if (report.rejected) await this.deps.snapshots.recordServed({ ...base, version: report.rejected.version });
    } catch (error) {
      this.deps.logger.warn('xds acknowledgement not stored', { ...base, version: report.version, error: (error as Error).message });
    }
  }
}
