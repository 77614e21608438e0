/**
 * crossfade's one DynamoDB table: its key design, written down once.
 *
 *   item                   pk                      sk                          indexes
 *   deployment             DEP#<id>                META                        gsi1: SVC#<service> / <createdAt>#<id>
 *                                                                              gsi2: DEPLOYMENTS / <createdAt>#<id>
 *   audit event            EVT#<subject>           <eventId>
 *   service lock           LOCK#<service>          LOCK
 *   idempotency record     IDEM#<key>              IDEM                        TTL on expiresAt
 *   registered version     SVC#<service>           VER#<version>               gsi2: SERVICES / <service>#<version>
 *   split of a proxy group SVC#<service>           SPLIT#<group>
 *   declared dependencies  SVC#<service>           DEPS
 *   xDS snapshot HEAD      XDS#<group>             HEAD
 *   xDS resource chunk     XDS#<group>#<type>#<content key>  CHUNK#<index, 5 digits>   TTL on expiresAt, once superseded
 *   xDS parts HEAD         XDSP#<group>            HEAD
 *   xDS manifest bucket    XDSP#<group>#B#<index>  <bucket key>                TTL on expiresAt, once superseded
 *   xDS service part       XDSP#<group>#P#<service>  <part key>[#<piece>]      TTL on expiresAt, once superseded
 *   proxy acknowledgement  XDSACK#<group>          <nodeId>#<type URL>
 *   active run             RUNS                    <deployment id>
 *   cap scope's slots      CAPS                    CAP#<rule>#<global | cloud:<cloud> | group:<proxy group>>
 *   notification outbox    NOTIFY#<notification id>  <destination>             gsi2 (pending only): OUTBOX / <nextAttemptAt>#...; TTL once finished
 *   reconcile run          RECONCILE#<run id>      RUN
 *   the run under way      RECONCILE               ACTIVE
 *
 * - Every item is found by its full key with a strongly consistent GetItem; only listings query.
 * - gsi1 lists one service's deployments newest first; gsi2 lists all of them (low volume: a few
 *   deployments a minute at most, far below one partition's 1,000 writes/s), and, under its own
 *   partition key, every registered version (the list of services for reconciliation).
 * - A service's versions and splits share its partition: one Query reads its whole mesh state.
 * - No transactions (the embedded store has none; they cost double): each write is one
 *   conditional single-item write, and multi-item operations are ordered so a crash between two
 *   writes is finished by the retry (see usecases/create-deployment.ts).
 * - Items stay small (a deployment is a few KB; request bodies are capped at 256 KB).
 * - xDS (snapshot-store.ts): a group's HEAD is alone in its partition and a few hundred bytes, so
 *   the one read every Envoy poll makes costs one read unit and shares its partition with nothing.
 *   Chunks (< 350 KB each) are immutable: their key is a digest of what they hold, so the same
 *   content is never written twice, and a type's chunks share a partition. Chunks no HEAD names
 *   any more are given an expiry an hour ahead, which a publish naming them again removes (the
 *   claimRevision guard in snapshot-store.ts). The per-service layout (part-store.ts) keeps a
 *   HEAD of about 2 KB naming 64 manifest buckets, each listing its services' part keys; parts
 *   and buckets are immutable and keyed by content like chunks, with the same expiry and guard,
 *   and a service's parts share its own partition. Acknowledgements live in their own per-group
 *   partition, written only when a proxy reports a different version.
 * - Active runs (ports/active-runs.ts) share one partition: a mark per unfinished deployment, a
 *   few writes a minute at most, read whole by the sweeper. Listing them from the deployments
 *   would read every deployment ever made.
 * - Concurrency caps (ports/canary-slots.ts) keep one item per cap scope in one partition: its
 *   holders are a map, so one conditional UpdateItem counts and claims at once; the sweeper reads
 *   them all with one Query. An item stays small (at most `max` holders of ~60 bytes each).
 * - Reconcile runs (ports/reconcile-runs.ts): one item per run, rewritten once per shard under its
 *   revision (a few KB: counts, at most 20 failures); one ACTIVE item names the run under way, so
 *   two schedulers or two requests join one run.
 */
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

export const TABLE_ENV = 'CROSSFADE_TABLE';
export const DEFAULT_TABLE_NAME = 'crossfade';

export const keys = {
  deployment: (id: string) => ({ pk: `DEP#${id}`, sk: 'META' }),
  deploymentsOfService: (service: string) => `SVC#${service}`,
  allDeployments: 'DEPLOYMENTS',
  deploymentSort: (createdAt: string, id: string) => `${createdAt}#${id}`,
  auditEvents: (subject: string) => `EVT#${subject}`,
  lock: (service: string) => ({ pk: `LOCK#${service}`, sk: 'LOCK' }),
  idempotency: (key: string) => ({ pk: `IDEM#${key}`, sk: 'IDEM' }),
  service: (service: string) => `SVC#${service}`,
  registeredVersion: (service: string, version: string) => ({ pk: `SVC#${service}`, sk: `VER#${version}` }),
  groupSplit: (service: string, group: string) => ({ pk: `SVC#${service}`, sk: `SPLIT#${group}` }),
  serviceDependencies: (service: string) => ({ pk: `SVC#${service}`, sk: 'DEPS' }),
  allRegisteredVersions: 'SERVICES',
  snapshotHead: (group: string) => ({ pk: `XDS#${group}`, sk: 'HEAD' }),
  /** `type` is the type URL's message name (`Cluster`, `ClusterLoadAssignment`, ...). */
  snapshotChunk: (group: string, type: string, contentKey: string, index: number) => ({
    pk: `XDS#${group}#${type}#${contentKey}`,
    sk: `CHUNK#${String(index).padStart(5, '0')}`,
  }),
  partsHead: (group: string) => ({ pk: `XDSP#${group}`, sk: 'HEAD' }),
  partsBucket: (group: string, index: number, bucketKey: string) => ({ pk: `XDSP#${group}#B#${index}`, sk: bucketKey }),
  /** Piece 0 is `<part key>`, a part too large for one item continues at `<part key>#1`... */
  partsPart: (group: string, service: string, partKey: string, piece: number) => ({ pk: `XDSP#${group}#P#${service}`, sk: piece === 0 ? partKey : `${partKey}#${piece}` }),
  proxyAcks: (group: string) => `XDSACK#${group}`,
  proxyAck: (group: string, nodeId: string, typeUrl: string) => ({ pk: `XDSACK#${group}`, sk: `${nodeId}#${typeUrl}` }),
  activeRuns: 'RUNS',
  activeRun: (deploymentId: string) => ({ pk: 'RUNS', sk: deploymentId }),
  capScopes: 'CAPS',
  /** `scopeKey`: `<rule>#global`, `<rule>#cloud:aws`, `<rule>#group:edge-eu` (domain/policy/cap-scopes.ts). */
  capScope: (scopeKey: string) => ({ pk: 'CAPS', sk: `CAP#${scopeKey}` }),
  outboxItems: (notificationId: string) => `NOTIFY#${notificationId}`,
  outboxItem: (notificationId: string, destination: string) => ({ pk: `NOTIFY#${notificationId}`, sk: destination }),
  outboxPending: 'OUTBOX',
  reconcileRun: (id: string) => ({ pk: `RECONCILE#${id}`, sk: 'RUN' }),
  activeReconcileRun: { pk: 'RECONCILE', sk: 'ACTIVE' },
} as const;

export const indexes = { byService: 'gsi1', all: 'gsi2' } as const;

/** The table as CreateTable takes it; serverless.yml declares the same (a test compares them). */
export function tableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
      { AttributeName: 'gsi1pk', AttributeType: 'S' },
      { AttributeName: 'gsi1sk', AttributeType: 'S' },
      { AttributeName: 'gsi2pk', AttributeType: 'S' },
      { AttributeName: 'gsi2sk', AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: indexes.byService,
        KeySchema: [
          { AttributeName: 'gsi1pk', KeyType: 'HASH' },
          { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
      {
        IndexName: indexes.all,
        KeySchema: [
          { AttributeName: 'gsi2pk', KeyType: 'HASH' },
          { AttributeName: 'gsi2sk', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ],
  };
}

/** The TTL attribute (epoch seconds) on idempotency records, superseded xDS chunks and finished outbox items. */
export const TTL_ATTRIBUTE = 'expiresAt';
