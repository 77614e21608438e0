/**
 * Chaos on real processes: one crossfade (`npm start`: tsx local/main.ts) on one data directory and
 * one table, killed with SIGKILL at named crash points (local/crash-points.ts: each entry of
 * CROSSFADE_CRASH_AT fires once and is written to the ledger before the kill) and started again on
 * the same state after every death, as a supervisor would, until what the test drives has ended.
 *
 * Every death is accounted for: a process may only die by SIGKILL with exactly one new line in the
 * ledger (a crash point), or by the test's own `killNow()`; anything else fails with its output.
 * The API is called over a fresh connection per request, so a restarted process on the same port
 * is never asked over a socket of the dead one. The store is read directly (DynamoDB Local, or the
 * embedded store at the address the process publishes in store-endpoint.json) for what the API
 * does not show: whether a run released, marks, locks.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { createTableHandle, type TableHandle } from '../../shared/adapters/dynamodb/client.js';
import { DynamoDbActiveRuns } from '../../shared/adapters/dynamodb/active-runs.js';
import { DynamoDbDeploymentStore } from '../../shared/adapters/dynamodb/deployment-store.js';
import { storeEndpointPath } from '../../shared/adapters/local-store-endpoint.js';
import type { Deployment } from '../../shared/domain/deployment.js';
import type { ActiveRun } from '../../shared/ports/active-runs.js';
import { hasExited, LocalProcesses, sleep, waitForOutput, type LocalProcess } from './local-process.js';
import { freePort } from './ports.js';
import { scanTable } from './store-backends.js';

export type StoreKind = 'embedded' | 'dynamodb-local';

export interface ChaosNodeOptions {
  /** For messages and the summary line. */
  name: string;
  store: StoreKind;
  /** crossfade.json. */
  config: Record<string, unknown>;
  /** CROSSFADE_CRASH_AT: each entry kills the process once. */
  crashAt?: readonly string[];
  /** More environment: waits, retries, sweeps. */
  env?: Record<string, string>;
}

export interface Answer<T = unknown> {
  status: number;
  body: T;
}

/** The status document's fields the chaos suites read. */
export interface StatusDoc {
  id: string;
  service: string;
  status: string;
  phase: string;
  step: { index: number; count: number };
  weights: Record<string, Record<string, number>>;
  result: { outcome: string; reason: string; weights: Record<string, Record<string, number>>; judgments: { stepIndex: number; classification: string }[] } | null;
}

export interface EventItem {
  eventId: string;
  action: string;
  reason: string | null;
  details: Record<string, unknown>;
}

const credentials = { accessKeyId: 'AKIAFAKEFAKEFAKE', secretAccessKey: 'fakesecretfakesecret' };
const LISTENING = /crossfade listening on /;

export class ChaosNode {
  readonly adminToken = `cf_chaos_admin_${randomUUID()}`;
  /** Deaths at crash points, and by killNow(). */
  kills = 0;
  starts = 0;
  private current: LocalProcess | undefined;
  private ledgerLinesAtStart = 0;
  private killedByTest = false;
  private starting: Promise<void> | undefined;
  private table: TableHandle | undefined;
  private readonly processes = new LocalProcesses();

  private constructor(
    readonly options: ChaosNodeOptions,
    readonly dir: string,
    readonly port: number,
    private readonly tableName: string,
    private crashAt: readonly string[],
  ) {}

  static async create(options: ChaosNodeOptions): Promise<ChaosNode> {
    const dir = mkdtempSync(join(tmpdir(), `crossfade-chaos-${options.name}-`));
    writeFileSync(join(dir, 'crossfade.json'), JSON.stringify(options.config, null, 2));
    return new ChaosNode(options, dir, await freePort(), `chaos-${options.name}-${randomUUID()}`, options.crashAt ?? []);
  }

  get ledgerPath(): string {
    return join(this.dir, 'crash-ledger');
  }

  /** The crash points that fired, in order: `{entry, point}` (the entry armed, the point it matched). */
  fired(): { entry: string; point: string }[] {
    if (!existsSync(this.ledgerPath)) return [];
    return readFileSync(this.ledgerPath, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [entry, point] = line.split(' ');
        return { entry: entry!, point: point! };
      });
  }

  /** Arms other entries from the next start on (the ledger keeps counting the ones that fired). */
  arm(entries: readonly string[]): void {
    this.crashAt = entries;
  }

  /** Makes sure a process serves the API: starts one when none runs; a process that died is accounted for first. One start for concurrent callers. */
  up(): Promise<void> {
    this.starting ??= this.startUntilListening().finally(() => (this.starting = undefined));
    return this.starting;
  }

  private async startUntilListening(): Promise<void> {
    for (;;) {
      if (this.current === undefined) this.spawn();
      const started = this.current!;
      const listening = await waitForOutput(started, LISTENING, 60_000).then(
        () => true,
        () => false,
      );
      if (listening && !hasExited(started)) {
        if (this.options.store === 'embedded' && this.table === undefined) this.table = embeddedTable(this.dir);
        return;
      }
      if (!hasExited(started)) throw new Error(`${this.options.name}: the process did not start listening:\n${started.output().slice(-4000)}`);
      await this.buried(started);
    }
  }

  /** SIGKILLs the process from outside (not at a crash point); the next call starts another. */
  killNow(): void {
    if (this.current === undefined || hasExited(this.current)) return;
    this.killedByTest = true;
    this.current.child.kill('SIGKILL');
  }

  /** An API call as the admin; undefined when the process died during it (a crash point fired), after accounting for the death. */
  async call<T = unknown>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer<T> | undefined> {
    await this.up();
    const started = this.current!;
    try {
      return await send<T>(`http://127.0.0.1:${this.port}${path}`, method, { authorization: `Bearer ${this.adminToken}`, ...headers }, body);
    } catch (error) {
      if (!(await diedSoon(started))) throw error;
      await this.buried(started);
      return undefined;
    }
  }

  /** An API call that must be answered (no crash point can fire during it): throws on a death or another status. */
  async must<T = unknown>(method: string, path: string, body: unknown, status: number, headers: Record<string, string> = {}): Promise<T> {
    const answer = await this.call<T>(method, path, body, headers);
    if (answer === undefined) throw new Error(`${this.options.name}: the process died during ${method} ${path}`);
    if (answer.status !== status) throw new Error(`${this.options.name}: ${method} ${path} answered ${answer.status}, not ${status}: ${JSON.stringify(answer.body)}`);
    return answer.body;
  }

  /** Reads the store while a process serves (the embedded store lives in it); undefined when the process died meanwhile. */
  async read<T>(what: (table: TableHandle) => Promise<T>): Promise<T | undefined> {
    await this.up();
    const started = this.current!;
    try {
      return await what(this.storeTable());
    } catch (error) {
      if (!(await diedSoon(started))) throw error;
      await this.buried(started);
      return undefined;
    }
  }

  deployment(id: string): Promise<Deployment | undefined> {
    return this.read((table) => new DynamoDbDeploymentStore(table).get(id)).then((d) => d ?? undefined);
  }

  /** Every active-run mark; throws when the process died meanwhile. */
  async marks(): Promise<ActiveRun[]> {
    return defined(await this.read((table) => new DynamoDbActiveRuns(table).list()), 'marks');
  }

  /** Every service lock that has an owner, as stored: `{service, owner}`. */
  async heldLocks(): Promise<{ service: string; owner: string }[]> {
    const items = defined(await this.read((table) => scanTable(table)), 'locks');
    return items
      .filter((item) => String(item['pk']).startsWith('LOCK#') && item['owner'] !== undefined)
      .map((item) => ({ service: String(item['service']), owner: String(item['owner']) }));
  }

  /** Every audit event of a deployment, oldest first, over all pages (undefined entries never: retried until answered). */
  async events(id: string): Promise<EventItem[]> {
    const items: EventItem[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: EventItem[]; nextCursor: string | null } = await this.must('GET', `/v1/deployments/${id}/events?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, undefined, 200);
      items.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    return items;
  }

  /**
   * Polls deployment `id` until its run is over (the stored deployment released, its mark gone), starting the
   * process again after every death; `onStatus` sees each status document before that (to send
   * requests). Returns the final status document.
   */
  async driveToEnd(id: string, timeoutMs: number, onStatus?: (doc: StatusDoc, stored: Deployment) => Promise<void>): Promise<StatusDoc> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const answer = await this.call<StatusDoc>('GET', `/v1/deployments/${id}`);
      const stored = answer && (await this.deployment(id));
      if (answer && stored) {
        if (answer.status !== 200) throw new Error(`${this.options.name}: GET ${id} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
        // Over once released and unmarked (the run unmarks after its release; if it died between, the sweeper does).
        const marks = stored.run.released ? await this.read((table) => new DynamoDbActiveRuns(table).list()) : undefined;
        if (marks && !marks.some((mark) => mark.deploymentId === id)) {
          // The answer above was read before the stored deployment: the run may have ended in
          // between, so the final document is read now that nothing will change it.
          const final = await this.call<StatusDoc>('GET', `/v1/deployments/${id}`);
          if (final?.status === 200) return final.body;
        } else {
          await onStatus?.(answer.body, stored);
        }
      }
      if (Date.now() > deadline) throw new Error(`${this.options.name}: the run of ${id} did not end within ${timeoutMs} ms (${this.kills} kills); last: ${JSON.stringify(answer?.body)}\n${this.current?.output().slice(-3000)}`);
      await sleep(150);
    }
  }

  /** Stops the process (SIGTERM, then SIGKILL), closes the store client, removes the data directory. */
  async stop(): Promise<void> {
    const started = this.current;
    if (started && !hasExited(started)) {
      started.child.kill('SIGTERM');
      await Promise.race([started.exited, sleep(10_000)]);
    }
    this.processes.killAll();
    this.table?.documents.destroy();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** "kills × restarts → outcome", one line. */
  summary(outcome: string): string {
    return `chaos ${this.options.name} (${this.options.store}): ${this.kills} kills, ${this.starts - 1} restarts → ${outcome}`;
  }

  private spawn(): void {
    this.ledgerLinesAtStart = this.fired().length;
    this.killedByTest = false;
    if (this.options.store === 'embedded') {
      this.table?.documents.destroy();
      this.table = undefined; // another port at every start
    }
    this.current = this.processes.start({
      CROSSFADE_DATA_DIR: join(this.dir, 'data'),
      PORT: String(this.port),
      CROSSFADE_CONFIG: join(this.dir, 'crossfade.json'),
      CROSSFADE_ADMIN_TOKEN: this.adminToken,
      CROSSFADE_LOG_LEVEL: 'warn',
      CROSSFADE_RECONCILE_SECONDS: '0',
      CROSSFADE_CRASH_LEDGER: this.ledgerPath,
      CROSSFADE_CRASH_AT: this.crashAt.join(','),
      // On DynamoDB Local the table could be shared, so even the sweep at start gives creations their
      // grace period (local/stack.ts): a short one keeps a chain killed inside a creation quick.
      ...(this.options.store === 'dynamodb-local' ? { CROSSFADE_DYNAMODB_ENDPOINT: inject('dynamoDbLocalEndpoint'), CROSSFADE_TABLE: this.tableName, CROSSFADE_RESUME_GRACE_SECONDS: '2' } : {}),
      ...this.options.env,
    });
    this.starts++;
  }

  /** Accounts for a process that ended: SIGKILLed at one crash point, or by killNow(); anything else is a failure. */
  private async buried(started: LocalProcess): Promise<void> {
    await started.exited;
    if (started !== this.current) return;
    this.current = undefined;
    const newLines = this.fired().length - this.ledgerLinesAtStart;
    const expected = this.killedByTest ? 0 : 1;
    if (started.child.signalCode !== 'SIGKILL' || newLines !== expected) {
      throw new Error(`${this.options.name}: the process ended (code ${started.child.exitCode}, signal ${started.child.signalCode}) with ${newLines} crash points fired:\n${started.output().slice(-4000)}`);
    }
    this.kills++;
  }

  private storeTable(): TableHandle {
    if (this.options.store === 'dynamodb-local') {
      this.table ??= createTableHandle({ region: 'us-east-1', endpoint: inject('dynamoDbLocalEndpoint'), credentials, requestTimeoutMs: 10_000 }, this.tableName);
    }
    if (this.table === undefined) throw new Error(`${this.options.name}: no store yet`);
    return this.table;
  }
}

function embeddedTable(dir: string): TableHandle {
  const published = JSON.parse(readFileSync(storeEndpointPath(join(dir, 'data')), 'utf8')) as { endpoint: string; table: string };
  return createTableHandle({ region: 'us-east-1', endpoint: published.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, requestTimeoutMs: 10_000 }, published.table);
}

/** Whether a call failed because its process died: its exit is seen within a few seconds. */
function diedSoon(started: LocalProcess): Promise<boolean> {
  return Promise.race([started.exited.then(() => true), sleep(5_000).then(() => false)]);
}

function defined<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`the process died while the test read ${what}`);
  return value;
}

/** One HTTP exchange over its own connection (agent: false): a pooled socket of a dead process is never reused. */
function send<T>(url: string, method: string, headers: Record<string, string>, body: unknown): Promise<Answer<T>> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const request = httpRequest(url, { method, agent: false, headers: { ...headers, ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }) } }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: (text === '' ? undefined : JSON.parse(text)) as T }));
      response.on('error', reject);
    });
    request.setTimeout(30_000, () => request.destroy(new Error(`${method} ${url}: no answer within 30 s`)));
    request.on('error', reject);
    request.end(payload);
  });
}
