/** The mesh commands (docs/cli.md): services, register, deregister, reconcile. */
import type { Command } from 'commander';
import { segment, type EventItem } from '../api.js';
import { UsageError } from '../failure.js';
import { ExitCode } from '../exit-codes.js';
import { changeTable, eventsTable, reconcileRunTable, reconcileTable, type ReconcileRunDocument, servicesTable, serviceTable, type ServiceSummary } from '../output.js';
import { readBodyFile, reasonOf, registrationBody } from '../request-bodies.js';
import type { Session } from '../session.js';
import type { Action } from './action.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];
/** How often `reconcile --wait` asks how far the run is. */
const RUN_POLL_MS = 1_000;

export function serviceCommands(program: Command, action: Action): void {
  program
    .command('services')
    .description('every service with its versions, weights and running deployment; or one service in detail')
    .argument('[name]')
    .option('--events', "with a name: the service's audit timeline (registrations, deregistrations: who, when, why)")
    .action(action(async (session: Session, name: string | undefined, flags: { events?: boolean }) => {
      const api = session.connect();
      if (flags.events) {
        if (name === undefined) throw new UsageError('--events needs a service name: crossfade services <name> --events');
        const page = await api.pages<EventItem>({ method: 'GET', path: `/v1/services/${segment(name)}/events`, query: { limit: '100' } }, true);
        session.print(page, () => eventsTable(page.items, session.colors));
      } else if (name !== undefined) {
        const view = await api.call<Parameters<typeof serviceTable>[0]>({ method: 'GET', path: `/v1/services/${segment(name)}` });
        session.print(view, () => serviceTable(view, session.colors));
      } else {
        const page = await api.pages<ServiceSummary>({ method: 'GET', path: '/v1/services', query: { limit: '100' } }, true);
        session.print(page, () => servicesTable(page.items, session.colors));
      }
      return ExitCode.Ok;
    }));

  program
    .command('register')
    .description("register a version's endpoints in the mesh (a later version enters at 0%)")
    .argument('<service>')
    .argument('<version>')
    .option('-f, --file <path>', 'the PUT body ({targets: [...]}) as YAML or JSON ("-": stdin)')
    .option('--target <spec>', 'repeated: cloud=<aws|gcp>,cluster=<name>,namespace=<ns>,port=<port>[,kubernetesService=<name>][,endpoint=<ip>:<port>[@zone]...]', collect)
    .option('--reason <text>', 'why, for the audit trail')
    .action(action(async (session: Session, service: string, version: string, flags: { file?: string; target?: string[]; reason?: string }) => {
      const body = { ...registrationBody(flags.file === undefined ? undefined : readBodyFile(flags.file), flags.target, service), ...reasonOf(flags) };
      const answer = await session.connect().call<Record<string, unknown>>({ method: 'PUT', path: versionPath(service, version), body });
      session.print(answer, () => changeTable(answer, session.colors));
      return ExitCode.Ok;
    }));

  program
    .command('deregister')
    .description('remove a version that carries no traffic from the mesh')
    .argument('<service>')
    .argument('<version>')
    .option('--reason <text>', 'why, for the audit trail')
    .action(action(async (session: Session, service: string, version: string, flags: { reason?: string }) => {
      const answer = await session.connect().call<Record<string, unknown>>({ method: 'DELETE', path: versionPath(service, version), body: reasonOf(flags) });
      session.print(answer, () => changeTable(answer, session.colors));
      return ExitCode.Ok;
    }));

  program
    .command('reconcile')
    .description('rediscover endpoints, repair drifted proxies, republish snapshots (every service, or one)')
    .option('--service <name>', 'only this service')
    .option('--reason <text>', 'why, logged with the outcome')
    .option('--wait', 'every service: follow the run until it is finished')
    .action(action(async (session: Session, flags: { service?: string; reason?: string; wait?: boolean }) => {
      const body = { ...(flags.service === undefined ? {} : { service: flags.service }), ...reasonOf(flags) };
      const connection = session.connect();
      if (flags.service !== undefined) {
        const answer = await connection.call<Parameters<typeof reconcileTable>[0]>({ method: 'POST', path: '/v1/reconcile', body });
        session.print(answer, () => reconcileTable(answer, session.colors));
        return ExitCode.Ok;
      }
      // Every service is a run in shards (202): its status document, followed when asked to.
      let run = await connection.call<ReconcileRunDocument>({ method: 'POST', path: '/v1/reconcile', body });
      while (flags.wait && run.status !== 'finished') {
        await new Promise((resolve) => setTimeout(resolve, RUN_POLL_MS));
        run = await connection.call<ReconcileRunDocument>({ method: 'GET', path: `/v1/reconcile/runs/${segment(run.id)}` });
      }
      session.print(run, () => reconcileRunTable(run, session.colors));
      return ExitCode.Ok;
    }));
}

function versionPath(service: string, version: string): string {
  return `/v1/services/${segment(service)}/versions/${segment(version)}`;
}
