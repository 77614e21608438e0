/**
 * The flags that make a create's body (docs/cli.md "deploy"), shared by `deploy`, which sends it
 * to POST /v1/deployments, and `policy check`, which sends the same body to the policy dry run: a
 * check answers for exactly the create the same command line would send.
 */
import type { Command } from 'commander';
import { deploymentBody, readBodyFile, type DeployFlags } from '../request-bodies.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

export interface CreateBodyOptions extends Omit<DeployFlags, 'service' | 'version'> {
  file?: string;
}

/** Declares the arguments and flags of a create's body on `command`. */
export function withCreateBodyFlags(command: Command): Command {
  return command
    .argument('[service]', 'the service (a DNS-1123 label)')
    .argument('[version]', 'the canary version (registered beforehand)')
    .option('-f, --file <path>', 'the POST /v1/deployments body as YAML or JSON ("-": stdin)')
    .option('--baseline <version>', 'the baseline (default: the version serving now)')
    .option('--environment <name>', 'where it deploys (prod, staging): the policy rules match it')
    .option('--step <spec>', 'a plan step, repeated in order: 5 | 5%@gcp,eks-use1 | pause | pause:5m | analysis:<template>:<interval>:<count>', collect)
    .option('--strategy <name>', 'a ready-made plan: canary-5-25-50-100, linear-<5|10|20|25|50>, blue-green')
    .option('--analysis <spec>', 'with --strategy: <template>:<interval>:<count> between its traffic steps')
    .option('--target <cloud:cluster>', 'a cluster to deploy to, repeated (default: every cluster where the canary is registered)', collect)
    .option('--deregister-baseline', 'once the canary serves 100% everywhere, deregister the baseline')
    .option('--reason <text>', 'why, for the audit trail');
}

/** The body those flags make: the --file's, each flag given replacing its field. */
export function createBodyOf(name: string, service: string | undefined, version: string | undefined, flags: CreateBodyOptions): Record<string, unknown> {
  return deploymentBody(flags.file === undefined ? undefined : readBodyFile(flags.file), { ...flags, service, version }, name);
}
