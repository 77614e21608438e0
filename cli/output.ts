/**
 * What commands print (docs/cli.md "Output"): `json` is the API's document exactly (parseable, two
 * spaces of indent), `yaml` the same document as YAML, `table` a view for people. Colour only in
 * tables, and only when asked for (a terminal, no NO_COLOR, no --no-color).
 */
import Table from 'cli-table3';
import { createColors } from 'picocolors';
import { stringify } from 'yaml';
import type { Verdict } from '../shared/domain/policy/types.js';
import type { StatusDocument } from '../shared/http/status-document.js';
import type { EventItem } from './api.js';
import { UsageError } from './failure.js';

export const FORMATS = ['table', 'json', 'yaml'] as const;
export type Format = (typeof FORMATS)[number];

export type Colors = ReturnType<typeof createColors>;

export function parseFormat(value: string): Format {
  if (!(FORMATS as readonly string[]).includes(value)) throw new UsageError(`--output must be one of ${FORMATS.join(', ')}, not ${value}`);
  return value as Format;
}

/** Colour when writing to a terminal, unless NO_COLOR is set (any value) or --no-color given. */
export function colorsFor(isTty: boolean, env: NodeJS.ProcessEnv, flag: boolean): Colors {
  return createColors(isTty && flag && env['NO_COLOR'] === undefined);
}

/** The document in `format`; `table` renders it for people. Always ends with a newline. */
export function render(document: unknown, format: Format, table: () => string): string {
  if (format === 'json') return `${JSON.stringify(document, null, 2)}\n`;
  if (format === 'yaml') return stringify(document);
  return `${table()}\n`;
}

export function colorStatus(status: string, c: Colors): string {
  if (status === 'SUCCEEDED') return c.green(status);
  if (status === 'TERMINAL') return c.red(status);
  if (status === 'CANCELED') return c.yellow(status);
  if (status === 'RUNNING') return c.cyan(status);
  return c.dim(status);
}

function newTable(c: Colors, head?: string[]): Table.Table {
  // cli-table3 colours its head and border itself: off unless colours are on.
  const style = c.isColorSupported ? { head: ['bold'], border: ['grey'] } : { head: [], border: [] };
  return new Table({ ...(head ? { head } : {}), style });
}

/** `gcp: v41 95% · v42 5%`, one line per cloud or proxy group. */
export function describeWeights(weights: Record<string, Record<string, number> | undefined>): string {
  const lines = Object.entries(weights).map(([where, split]) =>
    `${where}: ${Object.entries(split ?? {})
      .map(([version, weight]) => `${version} ${weight}%`)
      .join(' · ')}`,
  );
  return lines.length === 0 ? '-' : lines.join('\n');
}

/** One deployment, field by field. */
export function deploymentTable(doc: StatusDocument, c: Colors): string {
  const table = newTable(c);
  const rows: [string, string][] = [
    ['id', doc.id],
    ['service', doc.service],
    ['status', `${colorStatus(doc.status, c)} (${doc.phase})`],
    ['step', `${Math.min(doc.step.index + 1, doc.step.count)} of ${doc.step.count}`],
    ['canary', doc.canary],
    ['baseline', doc.baseline ?? '-'],
    ['weights', describeWeights(doc.weights)],
    ['progress', doc.progress],
  ];
  if (doc.unverified?.length) rows.push(['unverified', doc.unverified.join(', ')]);
  const judgments = (doc.result?.['judgments'] as { stepIndex: number; score: number; classification: string }[] | undefined) ?? [];
  if (judgments.length > 0) rows.push(['judgments', judgments.map((j) => `step ${j.stepIndex + 1}: ${j.classification} (${j.score})`).join('\n')]);
  const reason = doc.result?.['reason'];
  if (typeof reason === 'string') rows.push(['result', `${String(doc.result?.['outcome'] ?? '')}: ${reason}`.replace(/^: /, '')]);
  rows.push(['updated', doc.updatedAt]);
  for (const [key, value] of rows) table.push({ [c.bold(key)]: value });
  return table.toString();
}

export function deploymentsTable(items: StatusDocument[], c: Colors): string {
  if (items.length === 0) return 'no deployments';
  const table = newTable(c, ['ID', 'SERVICE', 'STATUS', 'PHASE', 'STEP', 'CANARY', 'BASELINE', 'UPDATED']);
  for (const d of items) table.push([d.id, d.service, colorStatus(d.status, c), d.phase, `${Math.min(d.step.index + 1, d.step.count)}/${d.step.count}`, d.canary, d.baseline ?? '-', d.updatedAt]);
  return table.toString();
}

/** One event on one line, for `events --follow` as each arrives. */
export function eventLine(event: EventItem, c: Colors): string {
  return [c.dim(event.at), event.action, c.dim(event.actor), event.reason ?? ''].join('  ').trimEnd();
}

export function eventsTable(items: EventItem[], c: Colors): string {
  if (items.length === 0) return 'no events';
  const table = newTable(c, ['AT', 'ACTION', 'ACTOR', 'REASON']);
  for (const e of items) table.push([e.at, e.action, e.actor, e.reason ?? '']);
  return table.toString();
}

/** `GET /v1/services` items: a service with its versions, weights per group and the running deployment. */
export interface ServiceSummary {
  service: string;
  versions?: ({ version: string } | string)[];
  weights?: Record<string, Record<string, number>>;
  running?: { id: string } | string | null;
  deployment?: { id: string } | string | null;
}

export function servicesTable(items: ServiceSummary[], c: Colors): string {
  if (items.length === 0) return 'no services';
  const table = newTable(c, ['SERVICE', 'VERSIONS', 'WEIGHTS', 'RUNNING']);
  for (const s of items) {
    const versions = (s.versions ?? []).map((v) => (typeof v === 'string' ? v : v.version)).join(', ');
    const running = s.running ?? s.deployment ?? null;
    table.push([s.service, versions || '-', describeWeights(s.weights ?? {}), running === null ? '-' : typeof running === 'string' ? running : running.id]);
  }
  return table.toString();
}

/** `GET /v1/services/{service}`: versions and where they run, the split and its verification per group. */
export function serviceTable(view: { service: string; versions: { version: string; clusters: { cloud: string; cluster: string; endpoints?: unknown[] }[] }[]; weights: Record<string, Record<string, number>>; verification?: Record<string, { state: string; reason?: string; lagging?: unknown[] }> }, c: Colors): string {
  const versions = newTable(c, ['VERSION', 'CLUSTERS']);
  for (const v of view.versions) versions.push([v.version, v.clusters.map((k) => `${k.cloud}/${k.cluster} (${k.endpoints?.length ?? 0} endpoints)`).join('\n')]);
  const groups = newTable(c, ['PROXY GROUP', 'WEIGHTS', 'VERIFICATION']);
  for (const [group, split] of Object.entries(view.weights)) {
    const verification = view.verification?.[group];
    const state = verification === undefined ? '-' : verification.state === 'converged' ? c.green('converged') : `${verification.state}${verification.reason ? `: ${verification.reason}` : verification.lagging ? `: ${verification.lagging.length} lagging` : ''}`;
    groups.push([group, describeWeights({ [group]: split }).replace(`${group}: `, ''), state]);
  }
  return `${c.bold(view.service)}\n${versions.toString()}\n${groups.toString()}`;
}

/** The answer of a change that is not a deployment's (register, deregister, reconcile): its fields, per proxy group what it serves. */
export function changeTable(answer: Record<string, unknown>, c: Colors): string {
  const table = newTable(c);
  for (const [key, value] of Object.entries(answer)) {
    if (value === undefined) continue;
    const shown = typeof value === 'object' && value !== null ? describeObject(value) : String(value);
    table.push({ [c.bold(key)]: shown });
  }
  return table.toString();
}

function describeObject(value: object): string {
  if (Array.isArray(value)) return value.length === 0 ? '-' : value.map((item) => (typeof item === 'object' && item !== null ? compact(item) : String(item))).join('\n');
  const entries = Object.entries(value);
  return entries.length === 0 ? '-' : entries.map(([key, item]) => `${key}: ${typeof item === 'object' && item !== null ? compact(item) : String(item)}`).join('\n');
}

function compact(value: object): string {
  return JSON.stringify(value).slice(0, 300);
}

/** `POST /v1/reconcile` of every service and `GET /v1/reconcile/runs/{runId}`: a run in shards. */
export interface ReconcileRunDocument {
  id: string;
  status: string;
  statusUrl: string;
  shardsDone: number;
  servicesSeen: number;
  drifted: number;
  repairs: number;
  errors: number;
  failures: { service: string; reason: string }[];
  startedAt: string;
  finishedAt: string | null;
}

export function reconcileRunTable(run: ReconcileRunDocument, c: Colors): string {
  const status = run.status === 'finished' ? c.green(run.status) : run.status;
  const lines = [
    `run ${run.id}: ${status}, ${run.shardsDone} shards, ${run.servicesSeen} services seen, ${run.drifted} drifted, ${run.repairs} repaired, ${run.errors} failed`,
    ...run.failures.map((f) => `failed ${f.service}: ${f.reason}`),
    `started ${run.startedAt}${run.finishedAt ? `, finished ${run.finishedAt}` : ''}`,
    `status: ${run.statusUrl}`,
  ];
  return lines.join('\n');
}

/** `POST /v1/reconcile`: per service what was found and done, then the summary. */
export function reconcileTable(report: { services: { service: string; findings: { kind: string; reason?: string }[]; actions: { kind: string }[] }[]; unverified?: { proxyGroup: string; reason: string }[]; summary: Record<string, number> }, c: Colors): string {
  const table = newTable(c, ['SERVICE', 'FOUND', 'DONE']);
  for (const s of report.services) {
    table.push([s.service, s.findings.map((f) => `${f.kind}${f.reason ? `: ${f.reason}` : ''}`).join('\n') || c.green('in sync'), s.actions.map((a) => a.kind).join('\n') || '-']);
  }
  const unverified = (report.unverified ?? []).map((u) => `unverified ${u.proxyGroup}: ${u.reason}`);
  const summary = Object.entries(report.summary).map(([key, value]) => `${key} ${value}`).join(', ');
  return [report.services.length > 0 ? table.toString() : 'no services', ...unverified, summary].join('\n');
}

/** The policy dry run: one row per rule that applies, then the answer. */
export function verdictsTable(answer: { allowed: boolean; verdicts: Verdict[] }, c: Colors): string {
  const outcome = answer.allowed ? c.green('allowed') : c.red('denied');
  if (answer.verdicts.length === 0) return `${outcome}: no rule applies`;
  const table = newTable(c, ['RULE', 'KIND', 'ALLOWED', 'REASON', 'NEXT ALLOWED AT']);
  for (const v of answer.verdicts) table.push([v.rule, v.kind, v.allowed ? c.green('yes') : c.red('no'), v.reason, v.nextAllowedAt ?? '-']);
  return `${table.toString()}\n${outcome}`;
}
