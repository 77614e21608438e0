/**
 * Orca's webhook stage as a test client, for Custom Webhook (preconfigured) stages loaded from an
 * orca-local.yml: the stage's fields filled as Orca fills them (Spring's `${ENV}` placeholders when
 * the file loads, then SpEL when the stage starts), then its tasks as docs/spinnaker.md describes:
 * - create: a string payload goes out as `text/plain;charset=ISO-8859-1` (its bytes in ISO-8859-1)
 *   unless a Content-Type header is configured; custom and sensitive headers on every request;
 *   `failFastStatusCodes` → TERMINAL; any other 5xx or 429 → the identical request again after a
 *   backoff; other 4xx, and an I/O error or timeout of a POST → TERMINAL. A user cancel while the
 *   create retries sends no cancel request (the create task has no onCancel);
 * - the status URL: the Location (`locationHeader`), or the create's answer at `statusUrlJsonPath`
 *   (`webhookResponse`; a relative URL is resolved against the stage's URL);
 * - monitor: GET the status URL until the status (`$.status`) is in a list; the
 *   progress (`$.progress`) must be a string every time; `retryStatusCodes`, 5xx and 429 are
 *   retried; other 4xx → TERMINAL. A user cancel while monitoring sends the cancel request once;
 * - the cancel request also follows a TERMINAL stage and a CANCELED status.
 * The SpEL evaluator knows only the forms crossfade's orca-local.yml uses and fails on any other.
 */
import { parse } from 'yaml';

export interface PreconfiguredStage {
  type: string;
  url: string;
  method: string;
  payload?: string;
  customHeaders?: Record<string, string[]>;
  sensitiveHeaders?: Record<string, string[]>;
  failFastStatusCodes?: number[];
  waitForCompletion: boolean;
  statusUrlResolution?: string;
  statusUrlJsonPath?: string;
  statusJsonPath?: string;
  progressJsonPath?: string;
  successStatuses?: string;
  canceledStatuses?: string;
  terminalStatuses?: string;
  retryStatusCodes?: number[];
  cancelEndpoint?: string;
  cancelMethod?: string;
  cancelPayload?: string;
  parameters?: { name: string; defaultValue?: string }[];
}

export function loadPreconfigured(yamlText: string): Map<string, PreconfiguredStage> {
  const document = parse(yamlText) as { webhook: { preconfigured: PreconfiguredStage[] } };
  return new Map(document.webhook.preconfigured.map((stage) => [stage.type, stage]));
}

/** What SpEL sees when a stage starts, and Orca's environment for Spring's placeholders. */
export interface SpelContext {
  env: Record<string, string>;
  execution: { id: string; application: string; name: string };
  stageId: string;
  parameterValues: Record<string, string>;
  /** Other stages of the execution by name: their context. */
  stages: Record<string, Record<string, unknown>>;
}

/** Fills every `${...}` of `text`; throws on a form it does not know or a value that is missing. */
export function fillPlaceholders(text: string, context: SpelContext): string {
  return text.replace(/\$\{([^{}]*)\}/g, (_whole, expression: string) => String(evaluate(expression.trim(), context)));
}

const QUOTED = /^'([^']*)'$/;

function evaluate(expression: string, context: SpelContext): unknown {
  if (/^[A-Z][A-Z0-9_]*$/.test(expression)) return required(context.env[expression], `environment variable ${expression}`);
  const execution = /^execution\.(id|application|name)$/.exec(expression);
  if (execution) return context.execution[execution[1] as 'id' | 'application' | 'name'];
  if (expression === "#currentStage()['id']") return context.stageId;
  const parameter = /^parameterValues\['([^']+)'\]$/.exec(expression);
  if (parameter) return required(context.parameterValues[parameter[1]!], `parameterValues['${parameter[1]}']`);
  const stage = /^#stage\(([^()]+)\)((?:\['[^']+'\])+)$/.exec(expression);
  if (stage) {
    const name = QUOTED.test(stage[1]!) ? QUOTED.exec(stage[1]!)![1]! : String(evaluate(stage[1]!, context));
    let value: unknown = required(context.stages[name], `#stage('${name}')`);
    for (const [, key] of stage[2]!.matchAll(/\['([^']+)'\]/g)) value = required((value as Record<string, unknown>)[key!], `${expression} at ['${key}']`);
    return value;
  }
  throw new Error(`SpEL form not known to this evaluator: \${${expression}}`);
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined || value === null) throw new Error(`${what} is not set`);
  return value;
}

/** The stage with every string field filled for one execution; the base URL replaced (crossfade's address in the test). */
export function resolveStage(stage: PreconfiguredStage, context: SpelContext, baseUrl: { from: string; to: string }): PreconfiguredStage {
  const defaults = Object.fromEntries((stage.parameters ?? []).filter((p) => p.defaultValue !== undefined).map((p) => [p.name, p.defaultValue!]));
  const filled = { ...context, parameterValues: { ...defaults, ...context.parameterValues } };
  const text = (value: string) => fillPlaceholders(value, filled).replaceAll(baseUrl.from, baseUrl.to);
  const headers = (map: Record<string, string[]> | undefined) => map && Object.fromEntries(Object.entries(map).map(([name, values]) => [name, values.map(text)]));
  return {
    ...stage,
    url: text(stage.url),
    ...(stage.payload === undefined ? {} : { payload: text(stage.payload) }),
    ...(stage.cancelEndpoint === undefined ? {} : { cancelEndpoint: text(stage.cancelEndpoint) }),
    ...(stage.cancelPayload === undefined ? {} : { cancelPayload: text(stage.cancelPayload) }),
    customHeaders: headers(stage.customHeaders) ?? {},
    sensitiveHeaders: headers(stage.sensitiveHeaders) ?? {},
  };
}

export type StageStatus = 'SUCCEEDED' | 'TERMINAL' | 'CANCELED';

export interface StageRun {
  status: StageStatus;
  /** `context.webhook`: the create's answer, and the monitor's last. */
  webhook: { statusCode?: number; body?: unknown; error?: string; monitor?: { body: Record<string, unknown>; progressMessage: string } };
  /** Create requests sent (retries included) and cancel requests sent. */
  creates: number;
  cancels: { status: number; body: unknown }[];
  /** Every status document the monitor read. */
  polls: Record<string, unknown>[];
}

export interface PlayOptions {
  /** Between create retries (Orca: 10 s) and polls (Orca: 1 s, then 15 s). */
  backoffMs: number;
  /** Orca's read timeout. */
  timeoutMs: number;
  /** Asked before every create attempt and poll, with the stage so far: true once the user canceled the execution. */
  userCanceled?: (run: StageRun) => boolean;
  /** Sees every status document and the stage so far (to play the user and other stages). */
  onPoll?: (document: Record<string, unknown>, run: StageRun) => Promise<void>;
  /** A bound on the whole stage, for the test (never an expectation). */
  deadlineMs?: number;
}

export async function playStage(stage: PreconfiguredStage, options: PlayOptions): Promise<StageRun> {
  const run: StageRun = { status: 'TERMINAL', webhook: {}, creates: 0, cancels: [], polls: [] };
  const deadline = Date.now() + (options.deadlineMs ?? 120_000);
  const headers = requestHeaders(stage);
  let location: string | undefined;
  for (;;) {
    if (options.userCanceled?.(run)) return { ...run, status: 'CANCELED' }; // no onCancel in the create task
    run.creates++;
    const answer = await send(stage.url, stage.method, headers, stage.payload, options.timeoutMs).catch((error: Error) => error);
    if (answer instanceof Error) return ended(stage, run, 'TERMINAL', `create failed: ${answer.message}`, options);
    run.webhook = { statusCode: answer.status, body: answer.body };
    if ((stage.failFastStatusCodes ?? [504]).includes(answer.status)) return ended(stage, run, 'TERMINAL', `create answered ${answer.status} (fail fast)`, options);
    if (answer.status >= 500 || answer.status === 429) {
      await sleepUntil(options.backoffMs, deadline);
      continue;
    }
    if (answer.status >= 400) return ended(stage, run, 'TERMINAL', `create answered ${answer.status}`, options);
    if (!stage.waitForCompletion) return { ...run, status: 'SUCCEEDED' };
    location = statusUrlOf(stage, answer);
    if (location === undefined || !/^https?:\/\//.test(location)) return ended(stage, run, 'TERMINAL', 'status URL could not be resolved', options);
    break;
  }
  for (;;) {
    if (options.userCanceled?.(run)) {
      await sendCancel(stage, run, options); // MonitorWebhookTask.onCancel
      return { ...run, status: 'CANCELED' };
    }
    if (Date.now() > deadline) throw new Error(`stage ${stage.type} still running at its deadline; last: ${JSON.stringify(run.polls.at(-1))}`);
    const answer = await send(location, 'GET', headers, undefined, options.timeoutMs).catch((error: Error) => error);
    if (answer instanceof Error || answer.status >= 500 || answer.status === 429 || (stage.retryStatusCodes ?? []).includes(answer.status)) {
      await sleepUntil(options.backoffMs, deadline);
      continue;
    }
    if (answer.status >= 400) return ended(stage, run, 'TERMINAL', `monitor answered ${answer.status}`, options);
    const body = answer.body as Record<string, unknown>;
    run.polls.push(body);
    const status = jsonPath(body, stage.statusJsonPath!);
    const progress = jsonPath(body, stage.progressJsonPath!);
    if (typeof progress !== 'string') return ended(stage, run, 'TERMINAL', `progress ${JSON.stringify(progress)} is not a string`, options);
    if (typeof status !== 'string') return ended(stage, run, 'TERMINAL', `status ${JSON.stringify(status)} is not a string`, options);
    run.webhook.monitor = { body, progressMessage: progress };
    const mapped = statusOf(stage, status);
    if (mapped === 'SUCCEEDED') return { ...run, status: 'SUCCEEDED' };
    if (mapped !== 'RUNNING') return ended(stage, run, mapped, undefined, options);
    await options.onPoll?.(body, run);
    await sleepUntil(options.backoffMs, deadline);
  }
}

/** WebhookStatusCheckUrlRetriever: where the monitor reads, resolved against the stage's URL. */
function statusUrlOf(stage: PreconfiguredStage, answer: Sent): string | undefined {
  let url: unknown;
  if (stage.statusUrlResolution === 'locationHeader') url = answer.headers.get('location') ?? undefined;
  else if (stage.statusUrlResolution === 'webhookResponse') url = typeof answer.body === 'object' && answer.body !== null ? jsonPath(answer.body as Record<string, unknown>, stage.statusUrlJsonPath!) : undefined;
  else throw new Error(`statusUrlResolution ${stage.statusUrlResolution} is not played here`);
  return typeof url === 'string' && url !== '' ? new URL(url, stage.url).href : undefined;
}

/** A TERMINAL stage (onFailureStages) and a CANCELED status both make Orca send the cancel. */
async function ended(stage: PreconfiguredStage, run: StageRun, status: 'TERMINAL' | 'CANCELED', error: string | undefined, options: PlayOptions): Promise<StageRun> {
  if (error !== undefined) run.webhook.error = error;
  await sendCancel(stage, run, options);
  return { ...run, status };
}

async function sendCancel(stage: PreconfiguredStage, run: StageRun, options: PlayOptions): Promise<void> {
  if (!stage.cancelEndpoint) return;
  // Best effort: Orca logs the answer and any error, and goes on.
  const answer = await send(stage.cancelEndpoint, stage.cancelMethod ?? 'POST', requestHeaders(stage), stage.cancelPayload, options.timeoutMs).catch((error: Error) => ({ status: 0, body: error.message }));
  run.cancels.push({ status: answer.status, body: answer.body });
}

/** Orca's status map: lists split on commas, trimmed, upper-cased; later lists win; anything else RUNNING. */
function statusOf(stage: PreconfiguredStage, value: string): StageStatus | 'RUNNING' {
  const map = new Map<string, StageStatus>();
  for (const [list, status] of [[stage.successStatuses, 'SUCCEEDED'], [stage.canceledStatuses, 'CANCELED'], [stage.terminalStatuses, 'TERMINAL']] as const) {
    for (const token of (list ?? '').split(',')) if (token.trim() !== '') map.set(token.trim().toUpperCase(), status);
  }
  return map.get(value.toUpperCase()) ?? 'RUNNING';
}

/** `$.name` only: the paths crossfade's stages use. */
function jsonPath(body: Record<string, unknown>, path: string): unknown {
  const match = /^\$\.(\w+)$/.exec(path);
  if (!match) throw new Error(`JSONPath ${path} is not played here`);
  return body[match[1]!];
}

function requestHeaders(stage: PreconfiguredStage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, values] of [...Object.entries(stage.customHeaders ?? {}), ...Object.entries(stage.sensitiveHeaders ?? {})]) headers[name.toLowerCase()] = values.join(', ');
  return headers;
}

interface Sent {
  status: number;
  headers: Headers;
  body: unknown;
}

async function send(url: string, method: string, headers: Record<string, string>, payload: string | undefined, timeoutMs: number): Promise<Sent> {
  // Spring's StringHttpMessageConverter: ISO-8859-1 unless the stage set a Content-Type.
  const contentType = headers['content-type'] ?? (payload === undefined ? undefined : 'text/plain;charset=ISO-8859-1');
  const body = payload === undefined ? undefined : Buffer.from(payload, contentType?.toLowerCase().includes('iso-8859-1') ? 'latin1' : 'utf8');
  const response = await fetch(url, { method, headers: { ...headers, ...(contentType ? { 'content-type': contentType } : {}) }, body, signal: AbortSignal.timeout(timeoutMs) });
  const text = await response.text();
  // Orca parses only JSON content types; anything else stays a string.
  const json = response.headers.get('content-type')?.startsWith('application/json') ?? false;
  return { status: response.status, headers: response.headers, body: json && text !== '' ? JSON.parse(text) : text };
}

function sleepUntil(ms: number, deadline: number): Promise<void> {
  if (Date.now() > deadline) throw new Error('stage deadline passed');
  return new Promise((resolve) => setTimeout(resolve, ms));
}
