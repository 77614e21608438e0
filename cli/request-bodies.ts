/**
 * Request bodies from the command line (docs/cli.md "deploy", "register"): a file holding the body
 * (YAML or JSON), with flags overriding its fields. Only the shape of each flag is checked here;
 * the API checks the body and names the field it refuses.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { UsageError } from './failure.js';

export interface DeployFlags {
  service?: string;
  version?: string;
  baseline?: string;
  environment?: string;
  step?: string[];
  strategy?: string;
  analysis?: string;
  target?: string[];
  reason?: string;
  deregisterBaseline?: boolean;
}

type Body = Record<string, unknown>;

/** `--file`: a YAML or JSON object (JSON is YAML); `-` reads stdin. */
export function readBodyFile(path: string, read: (path: string) => string = (p) => readFileSync(p === '-' ? 0 : p, 'utf8')): Body {
  let text: string;
  try {
    text = read(path);
  } catch (error) {
    throw new UsageError(`--file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  let value: unknown;
  try {
    value = parse(text);
  } catch (error) {
    throw new UsageError(`--file ${path}: neither YAML nor JSON: ${(error as Error).message.split('\n')[0]}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UsageError(`--file ${path} must hold an object (the request body)`);
  return value as Body;
}

/**
 * The body of POST /v1/deployments (and of the policy dry run, which takes the same): the file's,
 * with every flag given replacing its field. `command` names the command line in the usage errors.
 */
export function deploymentBody(file: Body | undefined, flags: DeployFlags, command = 'deploy'): Body {
  const body: Body = { ...file };
  if (flags.service !== undefined) body['service'] = flags.service;
  if (flags.environment !== undefined) body['environment'] = flags.environment;
  if (flags.version !== undefined) body['canary'] = { version: flags.version };
  if (flags.baseline !== undefined) body['baseline'] = { version: flags.baseline };
  if (flags.target?.length) body['targets'] = flags.target.map(parseDeployTarget);
  // steps and strategy are one choice: a flag for either replaces the file's choice whole.
  if (flags.step?.length || flags.strategy !== undefined) {
    delete body['steps'];
    delete body['strategy'];
    delete body['analysis'];
    if (flags.step?.length) body['steps'] = flags.step.map(parseStep);
    if (flags.strategy !== undefined) body['strategy'] = flags.strategy;
  }
  if (flags.analysis !== undefined) body['analysis'] = parseAnalysis(flags.analysis, '--analysis');
  if (flags.deregisterBaseline) body['onPromotion'] = { deregisterBaseline: true };
  if (flags.reason !== undefined) body['reason'] = flags.reason;
  if (body['service'] === undefined) throw new UsageError(`${command} needs a service: crossfade ${command} <service> <version>, or "service" in --file`);
  if (body['canary'] === undefined) throw new UsageError(`${command} needs the canary version: crossfade ${command} <service> <version>, or "canary.version" in --file`);
  if (body['steps'] === undefined && body['strategy'] === undefined) throw new UsageError(`${command} needs a plan: --step (repeated) or --strategy, or "steps"/"strategy" in --file`);
  return body;
}

/**
 * One `--step`: `5` or `5%` (setWeight), `5%@gcp,eks-use1` (setWeight in a wave of clouds or
 * clusters), `pause` (a manual gate), `pause:5m`, `analysis:<template>:<interval>:<count>`.
 */
export function parseStep(spec: string): Body {
  const weight = /^(\d{1,3})%?(?:@(.+))?$/.exec(spec);
  if (weight) {
    const step: Body = { setWeight: Number(weight[1]) };
    if (weight[2] !== undefined) step['wave'] = weight[2].split(',').filter(Boolean);
    return step;
  }
  if (spec === 'pause') return { pause: {} };
  if (spec.startsWith('pause:') && spec.length > 'pause:'.length) return { pause: { duration: spec.slice('pause:'.length) } };
  if (spec.startsWith('analysis:')) return { analysis: parseAnalysis(spec.slice('analysis:'.length), `--step ${spec}`) };
  throw new UsageError(`--step ${spec} is not <weight>[%][@<cloud or cluster>,...], pause, pause:<duration> or analysis:<template>:<interval>:<count>`);
}

/** `<template>:<interval>:<count>`, e.g. `http-golden-signals:1m:5`. */
export function parseAnalysis(spec: string, flag: string): Body {
  const parts = spec.split(':');
  const [template, interval, count] = parts;
  if (parts.length !== 3 || !template || !interval || !/^\d+$/.test(count ?? '')) throw new UsageError(`${flag}: the analysis must be <template>:<interval>:<count>, e.g. http-golden-signals:1m:5`);
  return { template, interval, count: Number(count) };
}

/** `--target <cloud>:<cluster>`, e.g. `aws:eks-use1`. */
export function parseDeployTarget(spec: string): Body {
  const match = /^([a-z]+):(.+)$/.exec(spec);
  if (!match) throw new UsageError(`--target ${spec} is not <cloud>:<cluster>, e.g. aws:eks-use1`);
  return { cloud: match[1], cluster: match[2] };
}

/** The body of PUT /v1/services/{service}/versions/{version}: the file's, its targets replaced by any --target. */
/** `--reason`, the why every change carries into the audit trail: `{reason}` or nothing. */
export function reasonOf(flags: { reason?: string }): Body {
  return flags.reason === undefined ? {} : { reason: flags.reason };
}

export function registrationBody(file: Body | undefined, targets: string[] | undefined, service: string): Body {
  const body: Body = { ...file };
  if (targets?.length) body['targets'] = targets.map((spec) => parseRegisterTarget(spec, service));
  if (body['targets'] === undefined) throw new UsageError('register needs where the version runs: --target cloud=<cloud>,cluster=<cluster>,namespace=<ns>,port=<port>[,...] (repeated), or "targets" in --file');
  return body;
}

const TARGET_KEYS = new Set(['cloud', 'cluster', 'namespace', 'kubernetesService', 'port', 'endpoint']);

/**
 * One registration `--target`: `cloud=gcp,cluster=gke-usc1,namespace=checkout,port=8080` and
 * optionally `kubernetesService=` (default: the service's name) and `endpoint=<address>:<port>[@zone]`
 * (repeated; an IPv6 address in brackets, `[fd00::1]:8080`). Without endpoints, crossfade discovers them.
 */
export function parseRegisterTarget(spec: string, service: string): Body {
  const fields = new Map<string, string>();
  const endpoints: Body[] = [];
  for (const pair of spec.split(',')) {
    const at = pair.indexOf('=');
    const [key, value] = at === -1 ? [pair, ''] : [pair.slice(0, at), pair.slice(at + 1)];
    if (!TARGET_KEYS.has(key) || value === '') throw new UsageError(`--target ${spec}: "${pair}" is not one of ${[...TARGET_KEYS].map((k) => `${k}=…`).join(', ')}`);
    if (key === 'endpoint') endpoints.push(parseEndpoint(value, spec));
    else if (fields.has(key)) throw new UsageError(`--target ${spec}: ${key} is given twice`);
    else fields.set(key, value);
  }
  for (const required of ['cloud', 'cluster', 'namespace', 'port']) if (!fields.has(required)) throw new UsageError(`--target ${spec}: ${required}= is required`);
  return {
    cloud: fields.get('cloud'),
    cluster: fields.get('cluster'),
    namespace: fields.get('namespace'),
    kubernetesService: fields.get('kubernetesService') ?? service,
    port: portOf(fields.get('port')!, spec),
    ...(endpoints.length > 0 ? { endpoints } : {}),
  };
}

function parseEndpoint(value: string, spec: string): Body {
  const match = /^(?:\[([^\]]+)\]|([^:@[\]]+)):(\d+)(?:@(.+))?$/.exec(value);
  if (!match) throw new UsageError(`--target ${spec}: endpoint=${value} is not <address>:<port>[@<zone>] ([<IPv6>]:<port>)`);
  return { address: match[1] ?? match[2], port: portOf(match[3]!, spec), ...(match[4] !== undefined ? { zone: match[4] } : {}) };
}

function portOf(value: string, spec: string): number {
  if (!/^\d{1,5}$/.test(value)) throw new UsageError(`--target ${spec}: port ${value} is not a number`);
  return Number(value);
}
