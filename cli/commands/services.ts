/** The mesh commands (docs/cli.md): services, register, deregister, reconcile. */
import type { Command } from 'commander';
import { segment } from '../api.js';
import { ExitCode } from '../exit-codes.js';
import { changeTable, reconcileTable, servicesTable, serviceTable, type ServiceSummary } from '../output.js';
import { readBodyFile, registrationBody } from '../request-bodies.js';
import type { Session } from '../session.js';
import type { Action } from './action.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function serviceCommands(program: Command, action: Action): void {
  program
    .command('services')
    .description('every service with its versions, weights and running deployment; or one service in detail')
    .argument('[name]')
    .action(action(async (session: Session, name: string | undefined) => {
      const api = session.connect();
      if (name !== undefined) {
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
    .action(action(async (session: Session, service: string, version: string, flags: { file?: string; target?: string[] }) => {
      const body = registrationBody(flags.file === undefined ? undefined : readBodyFile(flags.file), flags.target, service);
      const answer = await session.connect().call<Record<string, unknown>>({ method: 'PUT', path: versionPath(service, version), body });
      session.print(answer, () => changeTable(answer, session.colors));
      return ExitCode.Ok;
    }));

  program
    .command('deregister')
    .description('remove a version that carries no traffic from the mesh')
    .argument('<service>')
    .argument('<version>')
    .action(action(async (session: Session, service: string, version: string) => {
      const answer = await session.connect().call<Record<string, unknown>>({ method: 'DELETE', path: versionPath(service, version) });
      session.print(answer, () => changeTable(answer, session.colors));
      return ExitCode.Ok;
    }));

  program
    .command('reconcile')
    .description('rediscover endpoints, repair drifted proxies, republish snapshots (every service, or one)')
    .option('--service <name>', 'only this service')
    .action(action(async (session: Session, flags: { service?: string }) => {
      const answer = await session.connect().call<Parameters<typeof reconcileTable>[0]>({ method: 'POST', path: '/v1/reconcile', body: flags.service === undefined ? {} : { service: flags.service } });
      session.print(answer, () => reconcileTable(answer, session.colors));
      return ExitCode.Ok;
    }));
}

function versionPath(service: string, version: string): string {
  return `/v1/services/${segment(service)}/versions/${segment(version)}`;
}
