/**
 * The deployment commands (docs/cli.md): deploy, get, list, watch, events and the operator's
 * requests — promote, pause, resume, rollback, cancel.
 */
import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { stringify as stringifyYaml } from 'yaml';
import type { StatusDocument } from '../../shared/http/status-document.js';
import { segment, type Api, type EventItem, type Page } from '../api.js';
import { exitCodeOfStatus, ExitCode } from '../exit-codes.js';
import { UsageError } from '../failure.js';
import { followEvents, waitForEnd } from '../follow.js';
import { deploymentsTable, deploymentTable, eventLine, eventsTable, changeTable } from '../output.js';
import { reasonOf } from '../request-bodies.js';
import { durationMs, wholeNumber, type Session } from '../session.js';
import { writeSpinnakerOutputs } from '../spinnaker-output.js';
import { watchDeployment } from '../watch/watch.js';
import type { Action } from './action.js';
import { createBodyOf, withCreateBodyFlags, type CreateBodyOptions } from './create-body-flags.js';

const DEFAULT_INTERVAL = '2s';

export function deploymentCommands(program: Command, action: Action): void {
  withCreateBodyFlags(program.command('deploy').description('start a canary: flags for the common case, or --file holding the request body (flags override its fields)'))
    .option('--idempotency-key <key>', 'sent as X-Idempotency-Key (default: generated, or <executionId>-<stageId> from a "spinnaker" field)')
    .option('--wait', 'follow the deployment quietly to its end; exit with its code')
    .option('--watch', 'follow it in the live view to its end; exit with its code')
    .option('--interval <duration>', 'between polls while following', DEFAULT_INTERVAL)
    .option('--timeout <duration>', 'stop following after this long (exit 4; the deployment goes on)')
    .option('--spinnaker-output', "print the outputs Spinnaker's Run Job stage reads (implies --wait)")
    .option('--termination-log <path>', 'with --spinnaker-output: where to write the failure message (Kubernetes: /dev/termination-log)')
    .action(action(deploy));

  program
    .command('get')
    .description('a deployment: status, step, weights, progress, judgments')
    .argument('<id>')
    .action(action(async (session, id: string) => {
      const doc = await session.connect().deployment(id);
      session.print(doc, () => deploymentTable(doc, session.colors));
      return ExitCode.Ok;
    }));

  program
    .command('list')
    .description('deployments, newest first')
    .option('--service <name>', 'only this service')
    .option('--status <status>', 'only NOT_STARTED, RUNNING, SUCCEEDED, TERMINAL or CANCELED')
    .option('--limit <n>', 'at most this many per page (1-100)', '50')
    .option('--all', 'every page, following the cursor')
    .action(action(async (session, flags: { service?: string; status?: string; limit: string; all?: boolean }) => {
      const query: Record<string, string> = { limit: String(wholeNumber(flags.limit, '--limit', 1, 100)) };
      if (flags.service !== undefined) query['service'] = flags.service;
      if (flags.status !== undefined) query['status'] = flags.status.toUpperCase();
      const page = await session.connect().pages<StatusDocument>({ method: 'GET', path: '/v1/deployments', query }, flags.all === true);
      session.print(page, () => deploymentsTable(page.items, session.colors));
      return ExitCode.Ok;
    }));

  program
    .command('watch')
    .description('the live view of a deployment until it ends; exits with its code')
    .argument('<id>')
    .option('--interval <duration>', 'between polls', DEFAULT_INTERVAL)
    .action(action(async (session, id: string, flags: { interval: string }) => {
      const intervalMs = durationMs(flags.interval, '--interval');
      // Read once first: an unknown id, a refused token or an unreachable API ends like every other command.
      const api = session.connect();
      await api.deployment(id);
      const doc = await watch(session, api, id, intervalMs);
      return endedCode(session, doc);
    }));

  program
    .command('events')
    .description("a deployment's audit timeline, oldest first")
    .argument('<id>')
    .option('--follow', 'keep printing new events until the deployment ends; exit with its code')
    .option('--limit <n>', 'one page of at most this many (1-100) instead of the whole timeline')
    .option('--interval <duration>', 'between polls with --follow', DEFAULT_INTERVAL)
    .action(action(events));

  const control = (verb: 'promote' | 'pause' | 'resume' | 'rollback', description: string) =>
    program
      .command(verb)
      .description(description)
      .argument('<id>')
      .option('--reason <text>', 'why, for the audit trail');
  control('promote', 'pass the manual gate the deployment waits at; --full: skip every remaining step to 100%')
    .option('--full', 'go to 100% now')
    .action(action((session, id: string, flags: { reason?: string; full?: boolean }) => request(session, id, 'promote', { ...reasonOf(flags), ...(flags.full ? { full: true } : {}) })));
  control('pause', 'hold the deployment at its current step').action(action((session, id: string, flags: { reason?: string }) => request(session, id, 'pause', reasonOf(flags))));
  control('resume', 'go on from a pause').action(action((session, id: string, flags: { reason?: string }) => request(session, id, 'resume', reasonOf(flags))));
  control('rollback', 'send all traffic back to the baseline and end TERMINAL').action(action((session, id: string, flags: { reason?: string }) => request(session, id, 'rollback', reasonOf(flags))));

  program
    .command('cancel')
    .description('end the deployment CANCELED, traffic back to the baseline (idempotent); --key: the deployment its creation key names, even if it does not exist yet')
    .argument('[id]')
    .option('--key <idempotencyKey>', 'the X-Idempotency-Key the deployment was created with')
    .option('--reason <text>', 'why, for the audit trail')
    .action(action(async (session, id: string | undefined, flags: { key?: string; reason?: string }) => {
      if ((id === undefined) === (flags.key === undefined)) throw new UsageError('cancel needs a deployment id or --key <idempotencyKey>, not both');
      if (id !== undefined) return request(session, id, 'cancel', reasonOf(flags));
      const answer = await session.connect().call<Record<string, unknown>>({ method: 'POST', path: `/v1/deployments/by-key/${segment(flags.key!)}/cancel`, body: reasonOf(flags) });
      session.print(answer, () => (isStatusDocument(answer) ? deploymentTable(answer, session.colors) : changeTable(answer, session.colors)));
      return ExitCode.Ok;
    }));
}

interface DeployOptions extends CreateBodyOptions {
  idempotencyKey?: string;
  wait?: boolean;
  watch?: boolean;
  interval: string;
  timeout?: string;
  spinnakerOutput?: boolean;
  terminationLog?: string;
}

async function deploy(session: Session, service: string | undefined, version: string | undefined, flags: DeployOptions): Promise<number> {
  if (flags.terminationLog !== undefined && !flags.spinnakerOutput) throw new UsageError('--termination-log goes with --spinnaker-output');
  const spinnaker = flags.spinnakerOutput === true;
  let last: StatusDocument | undefined;
  try {
    const body = createBodyOf('deploy', service, version, flags);
    const intervalMs = durationMs(flags.interval, '--interval');
    const timeoutMs = flags.timeout === undefined ? undefined : durationMs(flags.timeout, '--timeout');
    const api = session.connect();
    const key = flags.idempotencyKey ?? spinnakerKey(body) ?? `crossfade-cli-${randomUUID()}`;
    const created = await api.call<StatusDocument>({ method: 'POST', path: '/v1/deployments', headers: { 'x-idempotency-key': key }, body });
    last = created;
    if (!flags.wait && !flags.watch && !spinnaker) {
      session.print(created, () => deploymentTable(created, session.colors));
      return ExitCode.Ok;
    }
    last = flags.watch ? await watch(session, api, created.id, intervalMs) : await waitForEnd(api, created.id, { intervalMs, timeoutMs, signal: session.signal }, created);
    if (!flags.watch) session.print(last, () => deploymentTable(last!, session.colors));
    if (spinnaker) await writeSpinnakerOutputs(last, undefined, { out: session.io.stdout, terminationLog: flags.terminationLog });
    return endedCode(session, last);
  } catch (error) {
    if (spinnaker) {
      // The outputs say why the stage failed; a failure to write them must not hide that reason.
      await writeSpinnakerOutputs(last, error as Error, { out: session.io.stdout, terminationLog: flags.terminationLog }).catch((written: Error) => session.note(`crossfade: could not write the Spinnaker outputs: ${written.message}`));
    }
    throw error;
  }
}

/** The key the API would derive from a Spinnaker body itself: sent as the header so a retried create replays. */
function spinnakerKey(body: Record<string, unknown>): string | undefined {
  const spinnaker = body['spinnaker'] as { executionId?: unknown; stageId?: unknown } | undefined;
  return typeof spinnaker?.executionId === 'string' && typeof spinnaker.stageId === 'string' ? `${spinnaker.executionId}-${spinnaker.stageId}` : undefined;
}

async function watch(session: Session, api: Api, id: string, intervalMs: number): Promise<StatusDocument> {
  const doc = await watchDeployment(api.transport, id, { out: session.io.stdout, tty: session.io.stdout.isTTY === true, color: session.colors.isColorSupported, intervalMs, signal: session.signal });
  // The live view is for people; a document asked for comes after it.
  if (session.format !== 'table') session.print(doc, () => '');
  return doc;
}

/** The exit code of a followed deployment; one that was left running says so. */
function endedCode(session: Session, doc: StatusDocument): number {
  const code = exitCodeOfStatus(doc.status);
  if (code === ExitCode.Unreachable) session.note(`crossfade: stopped following ${doc.id} while ${doc.status}; it goes on (crossfade watch ${doc.id})`);
  return code;
}

async function events(session: Session, id: string, flags: { follow?: boolean; limit?: string; interval: string }): Promise<number> {
  const api = session.connect();
  if (!flags.follow) {
    const page: Page<EventItem> =
      flags.limit === undefined ? await api.events(id) : await api.call({ method: 'GET', path: `/v1/deployments/${segment(id)}/events`, query: { limit: String(wholeNumber(flags.limit, '--limit', 1, 100)) } });
    session.print(page, () => eventsTable(page.items, session.colors));
    return ExitCode.Ok;
  }
  if (flags.limit !== undefined) throw new UsageError('--limit does not go with --follow');
  // One event per line as it arrives: JSON lines, YAML documents, or a line for people.
  const print = (event: EventItem) => {
    const text = session.format === 'json' ? `${JSON.stringify(event)}\n` : session.format === 'yaml' ? `---\n${stringifyYaml(event)}` : `${eventLine(event, session.colors)}\n`;
    session.io.stdout.write(text);
  };
  const doc = await followEvents(api, id, { intervalMs: durationMs(flags.interval, '--interval'), signal: session.signal }, print);
  return endedCode(session, doc);
}

async function request(session: Session, id: string, verb: string, body: Record<string, unknown>): Promise<number> {
  const doc = await session.connect().call<StatusDocument>({ method: 'POST', path: `/v1/deployments/${segment(id)}/${verb}`, body });
  session.print(doc, () => deploymentTable(doc, session.colors));
  return ExitCode.Ok;
}


function isStatusDocument(value: Record<string, unknown>): value is Record<string, unknown> & StatusDocument {
  return typeof value['id'] === 'string' && typeof value['status'] === 'string' && typeof value['step'] === 'object';
}
