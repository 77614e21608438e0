/**
 * The local stack: the same HTTP core the cloud functions serve, on a node:http server, over the
 * embedded DynamoDB-compatible store persisted under the data directory (or over any DynamoDB
 * endpoint named by CROSSFADE_DYNAMODB_ENDPOINT, e.g. DynamoDB Local).
 */
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { ensureTable } from '../shared/adapters/dynamodb/stores.js';
import { createJsonLogger } from '../shared/adapters/json-logger.js';
import { writeStoreEndpoint } from '../shared/adapters/local-store-endpoint.js';
import { createApiHandler } from '../shared/http/routes.js';
import { hashToken } from '../shared/http/auth.js';
import { createApiServer, nodeRequestListener } from '../shared/platform/node-http.js';
import { buildHttpDeps, tableFromEnv } from '../shared/runtime/deps.js';
import { cloudDiscovery } from '../shared/runtime/discovery.js';
import { createTableHandle } from '../shared/adapters/dynamodb/client.js';
import { DEFAULT_TABLE_NAME } from '../shared/adapters/dynamodb/table.js';
import type { Logger } from '../shared/ports/logger.js';
import type { LocalStateMachine } from '../shared/adapters/workflow/local-state-machine.js';
import { localWorkflow } from '../shared/runtime/local-workflow.js';
import { resolveAdminToken, type AdminTokenSource } from './admin-token.js';
import { crashPointsFromEnv } from './crash-points.js';
import { maintenance, type ResumeReport } from '../shared/runtime/maintenance.js';
import { startDispatchLoop } from '../shared/runtime/dispatch-loop.js';
import { unverifiedReason } from '../shared/domain/mesh.js';
import { startEmbeddedDynamo, type EmbeddedDynamo } from './embedded-dynamo.js';

export interface LocalStackOptions {
  env: Record<string, string | undefined>;
  /** Where state and the admin token live (default `.crossfade`, or CROSSFADE_DATA_DIR). */
  dataDir?: string;
  /** false: the embedded store lives in memory only. Default true (what `npm start` runs). */
  persist?: boolean;
  host?: string;
  port?: number;
  logger?: Logger;
  /**
   * How long each Wait state of the canary lasts, instead of its seconds (tests shorten waits here;
   * default CROSSFADE_LOCAL_WAIT_MS, else as the definition says). Ignored when the canary runs on
   * Step Functions (CROSSFADE_STATE_MACHINE_ARN set).
   */
  waitMs?: number;
  /** Every retry of the canary waits this long (default CROSSFADE_LOCAL_RETRY_MS, else its backoff). */
  retryMs?: number;
  /**
   * How often unfinished runs are looked for and resumed (default CROSSFADE_SWEEP_SECONDS, else 30 s
   * on the embedded store and 0 on a shared table, where another process's runs would look dead; 0:
   * only at start).
   */
  sweepEveryMs?: number;
  /**
   * Whether the runs an earlier process left unfinished are resumed at start (default: yes, unless
   * CROSSFADE_RESUME_AT_START=0). Off, they wait for the schedule (sweepEveryMs), or for a replayed
   * creation: a test decides what happens before an old run goes on (test/integration/split-brain.test.ts).
   */
  resumeAtStart?: boolean;
  /**
   * How long a scheduled sweep leaves a young creation to its creator (default
   * CROSSFADE_RESUME_GRACE_SECONDS, else the sweeper's own, 60 s). The sweep at start waits for
   * nobody: no creation of this process is under way yet.
   */
  resumeGraceMs?: number;
  /** How often the mesh is reconciled, as the clouds' schedule does (default CROSSFADE_RECONCILE_SECONDS, else 300 s; 0: never). */
  reconcileEveryMs?: number;
}

export interface LocalStack {
  url: string;
  adminToken: string;
  adminTokenSource: AdminTokenSource;
  adminTokenPath: string;
  storeDescription: string;
  configSource: string;
  /** The in-process canary runner; undefined when runs go to Step Functions. */
  canaryRunner: LocalStateMachine | undefined;
  /** What the start-up sweep found: the unfinished runs of an earlier process it started again (none when it was off). */
  resumed: ResumeReport;
  /** Proxy groups nothing can verify (they list no proxies): traffic steps report them `unverified`. */
  unverifiedGroups: { group: string; reason: string }[];
  stop(): Promise<void>;
}

export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
}

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const { env } = options;
  const dataDir = resolve(options.dataDir ?? env['CROSSFADE_DATA_DIR'] ?? '.crossfade');
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const admin = resolveAdminToken(env, dataDir);
  const logger = options.logger ?? createJsonLogger({ level: (env['CROSSFADE_LOG_LEVEL'] as 'info' | undefined) ?? 'warn' });

  let embedded: EmbeddedDynamo | undefined;
  let table;
  let storeDescription: string;
  if (env['CROSSFADE_DYNAMODB_ENDPOINT']) {
    table = tableFromEnv(env);
    storeDescription = `DynamoDB at ${env['CROSSFADE_DYNAMODB_ENDPOINT']}`;
  } else {
    const path = options.persist === false ? undefined : join(dataDir, 'store');
    embedded = await startEmbeddedDynamo({ path }).catch((error: Error) => {
      throw new Error(`cannot open the embedded store at ${path}: ${error.message} (is another crossfade running on this data directory?)`);
    });
    // One process serves the API and every canary run: many requests in flight share the store.
    table = createTableHandle(
      { region: 'us-east-1', endpoint: embedded.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxSockets: 256, connectionTimeoutMs: 10_000, requestTimeoutMs: 10_000 },
      env['CROSSFADE_TABLE'] ?? DEFAULT_TABLE_NAME,
    );
    storeDescription = path ? `embedded store in ${path}` : 'embedded store in memory';
  }
  await ensureTable(table);
  if (embedded) writeStoreEndpoint(dataDir, { endpoint: embedded.endpoint, table: table.tableName });

  let localRunner: LocalStateMachine | undefined;
  const crashPoints = crashPointsFromEnv(env);
  const deps = buildHttpDeps({
    env,
    configRequired: false,
    table,
    logger,
    extraTokens: [{ id: 'local-admin', sha256: hashToken(admin.token), scopes: [{ kind: 'admin' }] }],
    discovery: cloudDiscovery,
    ...(crashPoints ? { crashPoints } : {}),
    // Without a state machine in AWS, the canary runs here, on the real definition.
    ...(env['CROSSFADE_STATE_MACHINE_ARN'] ? {} : { workflow: (built) => (localRunner = localWorkflow(built, { waitMs: options.waitMs ?? numberFrom(env['CROSSFADE_LOCAL_WAIT_MS']), retryMs: options.retryMs ?? numberFrom(env['CROSSFADE_LOCAL_RETRY_MS']) })) }),
  });
  // Notifications are delivered here, beside the runs (in the clouds a scheduled function does it);
  // started first, so what an earlier process enqueued and never delivered goes out now.
  const dispatcher = deps.notifications ? startDispatchLoop(deps.notifications.dispatch) : undefined;
  if (dispatcher) deps.notifications?.onKick(dispatcher.kick);
  // Every run an earlier process left unfinished goes on from its stored state, before anything else.
  const shardSize = numberFrom(env['CROSSFADE_RECONCILE_SHARD_SIZE']);
  const leaseSeconds = numberFrom(env['CROSSFADE_RECONCILE_LEASE_SECONDS']);
  const jobs = maintenance(deps, { ...(shardSize ? { shardSize } : {}), ...(leaseSeconds ? { leaseMs: leaseSeconds * 1000 } : {}) });
  // A reconcile run of every service is driven here, in the background, shard by shard; stopping
  // the stack pauses it at the next shard, and the next start (or schedule) goes on from its cursor.
  let stopped = false;
  const keepGoing = () => !stopped;
  const driveInBackground = (drive: () => Promise<unknown>) =>
    void drive().catch((error: unknown) => logger.error('reconcile run failed', { error: error instanceof Error ? error.message : String(error) }));
  deps.dispatchReconcile = async (runId) => driveInBackground(() => jobs.continueReconcile(runId, { keepGoing }));
  const graceSeconds = numberFrom(env['CROSSFADE_RESUME_GRACE_SECONDS']);
  const resumeGraceMs = options.resumeGraceMs ?? (graceSeconds === undefined ? undefined : graceSeconds * 1000);
  // The embedded store is this process's alone (its LevelDB lock): no creation is under way anywhere,
  // so the sweep at start waits for nobody. A shared table (CROSSFADE_DYNAMODB_ENDPOINT) may have
  // creators elsewhere: they get their grace period.
  const startGraceMs = embedded ? 0 : resumeGraceMs;
  const resumed = (options.resumeAtStart ?? env['CROSSFADE_RESUME_AT_START'] !== '0') ? await jobs.resumeRuns(startGraceMs) : noRunsResumed(deps.clock.now());
  // A run an earlier process left goes on from its cursor. The embedded store is this process's
  // alone, so the dead process's lease is no one's: it is taken over at once.
  driveInBackground(() => jobs.resumeReconcile({ ignoreLease: embedded !== undefined, keepGoing }));
  const schedules = [
    // Executions live in this process, so it cannot tell another process's live run on a shared
    // table from a dead one: by default only a process that owns its store sweeps on a schedule.
    every(options.sweepEveryMs ?? secondsFrom(env['CROSSFADE_SWEEP_SECONDS'], embedded ? 30 : 0), () => jobs.resumeRuns(resumeGraceMs), logger, 'sweep'),
    every(options.reconcileEveryMs ?? secondsFrom(env['CROSSFADE_RECONCILE_SECONDS'], 300), () => jobs.reconcile(keepGoing), logger, 'reconcile'),
  ];
  const host = options.host ?? env['HOST'] ?? '127.0.0.1';
  const port = options.port ?? Number(env['PORT'] ?? 8080);
  const server = createApiServer(nodeRequestListener(createApiHandler(deps), `http://${host}:${port}`), env);
  try {
    await listen(server, host, port);
  } catch (error) {
    schedules.forEach((schedule) => schedule.stop());
    localRunner?.stop();
    await dispatcher?.stop();
    await embedded?.stop();
    throw error;
  }
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shownHost}:${address.port}`,
    adminToken: admin.token,
    adminTokenSource: admin.source,
    adminTokenPath: admin.path,
    storeDescription,
    configSource: deps.configSource,
    canaryRunner: localRunner,
    resumed,
    unverifiedGroups: deps.proxyGroups.flatMap((group) => {
      const reason = unverifiedReason(group);
      return reason === null ? [] : [{ group: group.name, reason }];
    }),
    async stop() {
      // Runs stop where they are; their deployments keep their state, and the next start resumes them.
      stopped = true;
      schedules.forEach((schedule) => schedule.stop());
      localRunner?.stop();
      await new Promise<void>((done) => {
        server.close(() => done());
        server.closeIdleConnections();
      });
      await dispatcher?.stop();
      table.documents.destroy();
      await embedded?.stop();
    },
  };
}

/** Runs `work` every `intervalMs` (0: never), one at a time, logging what fails; the timer never keeps the process alive. */
function every(intervalMs: number, work: () => Promise<unknown>, logger: Logger, what: string): { stop(): void } {
  if (intervalMs <= 0) return { stop() {} };
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    work()
      .catch((error: unknown) => logger.error(`scheduled ${what} failed`, { error: error instanceof Error ? error.message : String(error) }))
      .finally(() => (running = false));
  }, intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

function noRunsResumed(now: Date): ResumeReport {
  return { at: now.toISOString(), runs: [], slots: [], summary: { marked: 0, running: 0, started: 0, restarted: 0, removed: 0, failed: 0, slotsFreed: 0 } };
}

function secondsFrom(text: string | undefined, fallbackSeconds: number): number {
  const seconds = numberFrom(text);
  return (seconds ?? fallbackSeconds) * 1000;
}

function numberFrom(text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  return Number.isFinite(value) && value >= 0 ? value : undefined;
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') reject(new PortInUseError(`port ${port} on ${host} is already in use: stop whatever holds it, or start with PORT=<another port>`));
      else if (error.code === 'EACCES') reject(new PortInUseError(`not allowed to listen on ${host}:${port}: choose PORT above 1023`));
      else reject(error);
    });
    server.listen(port, host, () => resolve());
  });
}
