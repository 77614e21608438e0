/**
 * In-memory implementations of shared/ports, for unit tests only (docs/architecture.md): the contract
 * suites in test/contract/ run the real adapters. Each fake honours its port's contract
 * (conditional writes, 'exists' / 'not-held' answers, VersionConflictError, ConflictError, cursors
 * refused across queries), keeps copies so a caller cannot mutate what is "stored", counts every
 * write call so a test can say "nothing was written", and can be told to fail its next call of a
 * method (a store that is unreachable, a crash between two writes).
 */
import { InMemoryReconcileRuns } from './reconcile-run-fakes.js';
import { createHash } from 'node:crypto';
import { embeddedDefaults, type TokenEntry } from '../../shared/domain/config.js';
import { statusOf, type Deployment, type RetryNote } from '../../shared/domain/deployment.js';
import { ConflictError, VersionConflictError } from '../../shared/domain/errors.js';
import { hashToken, indexTokens } from '../../shared/http/auth.js';
import type { HttpDeps } from '../../shared/http/routes.js';
import type { AuditEvent, AuditLog } from '../../shared/ports/audit-log.js';
import type { Clock } from '../../shared/ports/clock.js';
import type { DeploymentQuery, DeploymentStore } from '../../shared/ports/deployment-store.js';
import { isTombstone, type ClaimOutcome, type IdempotencyEntry, type IdempotencyStore } from '../../shared/ports/idempotency-store.js';
import type { IdGenerator } from '../../shared/ports/ids.js';
import type { Logger } from '../../shared/ports/logger.js';
import type { Page, PageRequest } from '../../shared/ports/page.js';
import type { LockGrant, LockRequest, ServiceLockStore } from '../../shared/ports/service-lock.js';
import type { RegisteredVersion } from '../../shared/domain/mesh.js';
import type { ExecutionState, Workflow } from '../../shared/ports/workflow.js';
import type { ActiveRun, ActiveRuns } from '../../shared/ports/active-runs.js';
import type { CanarySlots, CapScopeSlots, SlotClaim, SlotHolder } from '../../shared/ports/canary-slots.js';
import type { AnalysisCatalog } from '../../shared/domain/plan.js';
import type { UseCaseDeps } from '../../shared/usecases/deps.js';
import { T0 } from './deployments.js';
import { FakeStore } from './fake-store.js';
import { decodeAfter, encodeAfter } from '../../shared/usecases/page-cursor.js';
import { InMemoryMeshRegistry, InMemoryPartStore, InMemorySnapshotStore, StaticClusterProvider, TEST_PROXY_GROUPS } from './mesh-fakes.js';

const copy = <T>(value: T): T => structuredClone(value);

/** Opaque cursors tied to the query they came from, as the port requires (the use cases' own kind). */
function page<T>(sorted: readonly { key: string; item: T }[], query: string, request: PageRequest): Page<T> {
  const after = decodeAfter(query, request.cursor);
  const start = after === undefined ? 0 : sorted.findIndex((entry) => entry.key === after) + 1;
  const slice = sorted.slice(start, start + request.limit);
  const more = start + slice.length < sorted.length;
  const last = slice.at(-1);
  return { items: slice.map((entry) => copy(entry.item)), ...(more && last ? { nextCursor: encodeAfter(query, last.key) } : {}) };
}

export class InMemoryDeploymentStore extends FakeStore<keyof DeploymentStore> implements DeploymentStore {
  private readonly items = new Map<string, Deployment>();

  async createIfAbsent(deployment: Deployment): Promise<'created' | 'exists'> {
    this.attemptWrite('createIfAbsent');
    if (this.items.has(deployment.id)) return 'exists';
    this.items.set(deployment.id, copy(deployment));
    this.writes++;
    return 'created';
  }

  async get(id: string): Promise<Deployment | undefined> {
    this.read('get');
    const found = this.items.get(id);
    return found && copy(found);
  }

  async update(next: Deployment): Promise<void> {
    this.attemptWrite('update');
    const expectedVersion = next.version - 1;
    const stored = this.items.get(next.id);
    if (!stored || stored.version !== expectedVersion) throw new VersionConflictError(`deployment ${next.id}`, expectedVersion);
    this.items.set(next.id, copy(next));
    this.writes++;
  }

  async noteRetry(id: string, note: RetryNote): Promise<void> {
    this.attemptWrite('noteRetry');
    const stored = this.items.get(id);
    if (!stored || stored.version !== note.atVersion) return;
    this.items.set(id, { ...stored, retrying: copy(note) });
    this.writes++;
  }

  async deleteUnstarted(id: string): Promise<'deleted' | 'started' | 'absent'> {
    this.attemptWrite('deleteUnstarted');
    const stored = this.items.get(id);
    if (!stored) return 'absent';
    if (stored.version !== 1) return 'started';
    this.items.delete(id);
    this.writes++;
    return 'deleted';
  }

  async list(query: DeploymentQuery): Promise<Page<Deployment>> {
    this.read('list');
    const sorted = [...this.items.values()]
      .filter((d) => query.service === undefined || d.service === query.service)
      .filter((d) => query.status === undefined || statusOf(d.phase) === query.status)
      .map((d) => ({ key: `${d.createdAt}#${d.id}`, item: d }))
      .sort((a, b) => (a.key < b.key ? 1 : a.key > b.key ? -1 : 0)); // newest first
    return page(sorted, `deployments:${query.service ?? '*'}:${query.status ?? '*'}`, query);
  }

  /** Every stored deployment, for assertions. */
  all(): Deployment[] {
    return [...this.items.values()].map(copy);
  }
}

export class InMemoryIdempotencyStore extends FakeStore<keyof IdempotencyStore> implements IdempotencyStore {
  private readonly records = new Map<string, IdempotencyEntry>();

  async claim<T extends IdempotencyEntry>(record: T): Promise<ClaimOutcome<T>> {
    this.attemptWrite('claim');
    const winner = this.records.get(record.key);
    if (winner) return { claimed: false, record: copy(winner) };
    this.records.set(record.key, copy(record));
    this.writes++;
    return { claimed: true, record: copy(record) };
  }

  async get(key: string): Promise<IdempotencyEntry | undefined> {
    this.read('get');
    const found = this.records.get(key);
    return found && copy(found);
  }

  async forget(key: string, deploymentId: string): Promise<void> {
    this.attemptWrite('forget');
    const found = this.records.get(key);
    if (found === undefined || isTombstone(found) || found.deployment.id !== deploymentId) return;
    this.records.delete(key);
    this.writes++;
  }

  all(): IdempotencyEntry[] {
    return [...this.records.values()].map(copy);
  }
}

export class InMemoryAuditLog extends FakeStore<keyof AuditLog> implements AuditLog {
  private readonly events = new Map<string, Map<string, AuditEvent>>();

  async append(event: AuditEvent): Promise<void> {
    this.attemptWrite('append');
    const subject = this.events.get(event.subject) ?? new Map<string, AuditEvent>();
    if (subject.has(event.eventId)) return; // recorded by an earlier attempt
    subject.set(event.eventId, copy(event));
    this.events.set(event.subject, subject);
    this.writes++;
  }

  async list(subject: string, request: PageRequest): Promise<Page<AuditEvent>> {
    this.read('list');
    const sorted = [...(this.events.get(subject)?.values() ?? [])]
      .map((event) => ({ key: event.eventId, item: event }))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)); // oldest first: event ids sort in order
    return page(sorted, `audit:${subject}`, request);
  }

  /** Every event of every subject, for assertions. */
  all(): AuditEvent[] {
    return [...this.events.values()].flatMap((events) => [...events.values()].map(copy));
  }
}

interface LockItem {
  owner: string | undefined;
  leaseExpiresAtMs: number;
  fencingToken: number;
}

export class InMemoryServiceLockStore extends FakeStore<keyof ServiceLockStore> implements ServiceLockStore {
  // Released locks keep their item, so the fencing token keeps growing across releases.
  private readonly locks = new Map<string, LockItem>();

  async acquire(request: LockRequest): Promise<LockGrant> {
    this.attemptWrite('acquire');
    const nowMs = request.now.getTime();
    const item = this.locks.get(request.service);
    if (item?.owner !== undefined && item.owner !== request.owner && item.leaseExpiresAtMs > nowMs) {
      const leaseExpiresAt = new Date(item.leaseExpiresAtMs).toISOString();
      throw new ConflictError(`service ${request.service} is locked by ${item.owner} until ${leaseExpiresAt}`, item.owner);
    }
    // A renewal by the holder keeps the token; taking the lock (free, or expired) bumps it.
    const renewal = item?.owner === request.owner;
    const next: LockItem = { owner: request.owner, leaseExpiresAtMs: nowMs + request.leaseMs, fencingToken: renewal ? item.fencingToken : (item?.fencingToken ?? 0) + 1 };
    this.locks.set(request.service, next);
    this.writes++;
    return grant(request.service, next);
  }

  async release(service: string, owner: string): Promise<'released' | 'not-held'> {
    this.attemptWrite('release');
    const item = this.locks.get(service);
    if (!item || item.owner !== owner) return 'not-held';
    this.locks.set(service, { ...item, owner: undefined });
    this.writes++;
    return 'released';
  }

  async get(service: string): Promise<LockGrant | undefined> {
    this.read('get');
    const item = this.locks.get(service);
    return item?.owner !== undefined ? grant(service, item) : undefined;
  }
}

function grant(service: string, item: LockItem): LockGrant {
  return { service, owner: item.owner!, leaseExpiresAt: new Date(item.leaseExpiresAtMs).toISOString(), fencingToken: item.fencingToken };
}

/** A clock that reads `at` until a test moves it. */
export class FixedClock implements Clock {
  private ms: number;
  constructor(at: Date = T0) {
    this.ms = at.getTime();
  }
  now(): Date {
    return new Date(this.ms);
  }
  set(at: Date): void {
    this.ms = at.getTime();
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

/** `dep_` + 26 characters, counting up from 1: `dep_00000000000000000000000001`, then ...02. Sortable by creation. */
export class SequentialIds implements IdGenerator {
  private next = 1;
  /** Every id handed out, in order. */
  readonly issued: string[] = [];

  deploymentId(): string {
    const id = `dep_${String(this.next++).padStart(26, '0')}`;
    this.issued.push(id);
    return id;
  }
}

export interface LogLine {
  level: 'info' | 'warn' | 'error';
  message: string;
  /** The child fields merged with the call's own. */
  fields: Record<string, unknown>;
}

/** Keeps every line, children's included, in one shared list. */
export class CapturingLogger implements Logger {
  constructor(
    readonly lines: LogLine[] = [],
    private readonly base: Record<string, unknown> = {},
  ) {}

  info(message: string, fields?: Record<string, unknown>): void {
    this.lines.push({ level: 'info', message, fields: { ...this.base, ...fields } });
  }
  warn(message: string, fields?: Record<string, unknown>): void {
    this.lines.push({ level: 'warn', message, fields: { ...this.base, ...fields } });
  }
  error(message: string, fields?: Record<string, unknown>): void {
    this.lines.push({ level: 'error', message, fields: { ...this.base, ...fields } });
  }
  child(fields: Record<string, unknown>): Logger {
    return new CapturingLogger(this.lines, { ...this.base, ...fields });
  }

  at(level: LogLine['level']): LogLine[] {
    return this.lines.filter((line) => line.level === level);
  }
}

/**
 * A workflow engine that records what it was asked; wake answers 'woken' for tokens listed in
 * `waiting`. `started` lists deployment ids, `executions` the execution names; an execution is
 * running once started unless a test ends it (`states`).
 */
export class RecordingWorkflow implements Workflow {
  readonly started: string[] = [];
  readonly executions: string[] = [];
  readonly woken: string[] = [];
  readonly waiting = new Set<string>();
  readonly states = new Map<string, ExecutionState>();

  async start(deploymentId: string, execution: string = deploymentId): Promise<void> {
    this.started.push(deploymentId);
    this.executions.push(execution);
    if (!this.states.has(execution)) this.states.set(execution, 'running');
  }

  async executionState(execution: string): Promise<ExecutionState> {
    return this.states.get(execution) ?? 'absent';
  }

  async wake(token: string): Promise<'woken' | 'stale'> {
    this.woken.push(token);
    return this.waiting.delete(token) ? 'woken' : 'stale';
  }
}

export class InMemoryActiveRuns extends FakeStore<keyof ActiveRuns> implements ActiveRuns {
  private readonly marks = new Map<string, string>();

  async mark(deploymentId: string, at: string): Promise<void> {
    this.attemptWrite('mark');
    this.marks.set(deploymentId, at);
    this.writes++;
  }

  async unmark(deploymentId: string, ifMarkedAt?: string): Promise<void> {
    this.attemptWrite('unmark');
    if (ifMarkedAt !== undefined && this.marks.get(deploymentId) !== ifMarkedAt) return;
    if (this.marks.delete(deploymentId)) this.writes++;
  }

  async list(): Promise<ActiveRun[]> {
    this.read('list');
    return [...this.marks].map(([deploymentId, markedAt]) => ({ deploymentId, markedAt })).sort((a, b) => a.markedAt.localeCompare(b.markedAt));
  }
}

/** CanarySlots in memory: the same contract as the table's (test/contract/canary-slots.test.ts). */
export class InMemoryCanarySlots extends FakeStore<keyof CanarySlots> implements CanarySlots {
  private readonly scopesByKey = new Map<string, Map<string, string>>();

  async claim(scopeKey: string, holder: string, max: number, at: string): Promise<SlotClaim> {
    this.attemptWrite('claim');
    const holders = this.scopesByKey.get(scopeKey) ?? new Map<string, string>();
    if (!holders.has(holder) && holders.size >= max) return { claimed: false, holders: sortedHolders(holders) };
    holders.set(holder, at);
    this.scopesByKey.set(scopeKey, holders);
    this.writes++;
    return { claimed: true };
  }

  async release(scopeKey: string, holder: string, ifClaimedAt?: string): Promise<void> {
    this.attemptWrite('release');
    const holders = this.scopesByKey.get(scopeKey);
    if (!holders || (ifClaimedAt !== undefined && holders.get(holder) !== ifClaimedAt)) return;
    if (holders.delete(holder)) this.writes++;
  }

  async holders(scopeKey: string): Promise<SlotHolder[]> {
    this.read('holders');
    return sortedHolders(this.scopesByKey.get(scopeKey) ?? new Map());
  }

  async scopes(): Promise<CapScopeSlots[]> {
    this.read('scopes');
    return [...this.scopesByKey].map(([scopeKey, holders]) => ({ scopeKey, holders: sortedHolders(holders) }));
  }
}

function sortedHolders(holders: ReadonlyMap<string, string>): SlotHolder[] {
  return [...holders].map(([holder, claimedAt]) => ({ holder, claimedAt })).sort((a, b) => a.claimedAt.localeCompare(b.claimedAt) || a.holder.localeCompare(b.holder));
}

/** The embedded configuration's analysis catalog (as runtime/canary.ts analysisCatalogOf builds it): `http-golden-signals` on `prometheus`. */
export const TEST_ANALYSIS_CATALOG: AnalysisCatalog = {
  templates: embeddedDefaults.analysis.templates,
  providers: embeddedDefaults.analysis.providers.map((p) => p.name),
};

export const TEST_CANARY_SETTINGS = { lockLeaseMs: 30 * 60_000 } as const;

/** The versions the test requests name (requests.ts, deployments.ts), registered with one endpoint each. */
export function registeredTestVersions(): RegisteredVersion[] {
  return ['v41', 'v42', 'v1.4.0', 'v1.5.0'].map((version, index) => ({
    service: 'checkout',
    version,
    clusters: [{ cloud: 'aws', cluster: 'eks-use1', region: 'us-east-1', endpoints: [{ address: `10.0.0.${index + 1}`, port: 8080, zone: null }] }],
    registeredAt: T0.toISOString(),
    registeredBy: 'test',
    revision: 1,
  }));
}

/** UseCaseDeps whose every port is a fake the test can inspect. */
export interface FakeDeps extends UseCaseDeps {
  deployments: InMemoryDeploymentStore;
  idempotency: InMemoryIdempotencyStore;
  audit: InMemoryAuditLog;
  locks: InMemoryServiceLockStore;
  clock: FixedClock;
  ids: SequentialIds;
  logger: CapturingLogger;
  registry: InMemoryMeshRegistry;
  workflow: RecordingWorkflow;
  activeRuns: InMemoryActiveRuns;
  slots: InMemoryCanarySlots;
}

/** The clusters of the test configuration: one per cloud, as docs/api.md's example names them. */
export const TEST_CLUSTERS = [
  { name: 'eks-use1', cloud: 'aws', region: 'us-east-1' },
  { name: 'gke-usc1', cloud: 'gcp', region: 'us-central1' },
] as const;

export function fakeDeps(overrides: Partial<FakeDeps> = {}): FakeDeps {
  return {
    deployments: new InMemoryDeploymentStore(),
    activeRuns: new InMemoryActiveRuns(),
    slots: new InMemoryCanarySlots(),
    idempotency: new InMemoryIdempotencyStore(),
    audit: new InMemoryAuditLog(),
    locks: new InMemoryServiceLockStore(),
    clock: new FixedClock(),
    ids: new SequentialIds(),
    logger: new CapturingLogger(),
    clusters: TEST_CLUSTERS.map((c) => ({ ...c })),
    registry: InMemoryMeshRegistry.with(registeredTestVersions()),
    workflow: new RecordingWorkflow(),
    analysis: { ...TEST_ANALYSIS_CATALOG },
    // The catalog's provider, answering no data and checking nothing (the preflight skips it).
    metrics: new Map(TEST_ANALYSIS_CATALOG.providers.map((name) => [name, { name, queryRange: async () => [] }])),
    settings: { ...TEST_CANARY_SETTINGS },
    policyRules: [],
    rulesServices: [],
    ...overrides,
  };
}

/** Write calls across every store of `deps` (the registry's too, when given), whatever their outcome: 0 means nothing was written. */
export function writeAttempts(deps: Pick<FakeDeps, 'deployments' | 'idempotency' | 'audit' | 'locks'> & { registry?: InMemoryMeshRegistry; activeRuns?: InMemoryActiveRuns; slots?: InMemoryCanarySlots }): number {
  return deps.deployments.writeAttempts + deps.idempotency.writeAttempts + deps.audit.writeAttempts + deps.locks.writeAttempts + (deps.registry?.writeAttempts ?? 0) + (deps.activeRuns?.writeAttempts ?? 0) + (deps.slots?.writeAttempts ?? 0);
}

/** Bearer tokens of the fake HTTP deps (each at least 16 printable characters, as auth requires). */
export const TEST_TOKENS = {
  admin: 'cf_unit_admin_token_0123456789abcdef',
  checkoutDeployer: 'cf_unit_checkout_deployer_012345678',
  reader: 'cf_unit_reader_everything_012345678',
} as const;

export const TEST_TOKEN_ENTRIES: readonly TokenEntry[] = [
  { id: 'admin', sha256: hashToken(TEST_TOKENS.admin), scopes: [{ kind: 'admin' }] },
  { id: 'checkout-pipeline', sha256: hashToken(TEST_TOKENS.checkoutDeployer), scopes: [{ kind: 'deploy', serviceGlob: 'checkout*' }] },
  { id: 'auditor', sha256: hashToken(TEST_TOKENS.reader), scopes: [{ kind: 'read', serviceGlob: '*' }] },
];

/** HttpDeps whose ports are the fakes (so a test can inspect them). */
export type FakeHttpDeps = FakeDeps & Omit<HttpDeps, keyof UseCaseDeps>;

/** HttpDeps on fakes; `tokenEntries` replaces the test tokens. */
export function fakeHttpDeps(overrides: Partial<FakeHttpDeps> & { tokenEntries?: readonly TokenEntry[] } = {}): FakeHttpDeps {
  const { tokenEntries = TEST_TOKEN_ENTRIES, ...rest } = overrides;
  return {
    ...fakeDeps(),
    tokens: indexTokens(tokenEntries),
    publicBaseUrl: 'https://crossfade.test',
    version: '0.0.0-test',
    clusterProvider: new StaticClusterProvider(),
    proxyGroups: TEST_PROXY_GROUPS,
    snapshots: new InMemorySnapshotStore(),
    parts: new InMemoryPartStore(),
    hash: (text: string) => createHash('sha256').update(text).digest('hex'),
    // No proxies are reachable from unit tests: reconciliation reports the groups as not reconciled.
    routers: {},
    reconcileRuns: new InMemoryReconcileRuns(),
    ...rest,
  };
}
