/**
 * The composition root shared by every entry point: reads configuration and environment once per
 * cold start and builds the adapters behind the ports. Nothing here runs at import time.
 *
 * Environment:
 *   CROSSFADE_TABLE              the DynamoDB table (default `crossfade`)
 *   CROSSFADE_DYNAMODB_ENDPOINT  a local endpoint (DynamoDB Local, the embedded store); unset in the cloud
 *   AWS_REGION                   the table's region (set by Lambda; set it on GCP)
 *   CROSSFADE_CONFIG             the configuration file (see adapters/config-file.ts)
 *   CROSSFADE_LOG_LEVEL          info (default), warn, error or silent
 */
import type { ClusterConfig, TokenEntry } from '../domain/config.js';
import { ConfigError, InternalError } from '../domain/errors.js';
import type { ClusterProvider } from '../ports/cluster-provider.js';
import type { AwsCredentialsProvider } from '../adapters/clusters/eks.js';
import { indexTokens } from '../http/auth.js';
import type { HttpDeps } from '../http/routes.js';
import type { Logger } from '../ports/logger.js';
import { packageVersion } from '../version.js';
import { loadConfig } from '../adapters/config-file.js';
import { HaproxyTrafficRouter } from '../adapters/haproxy/haproxy-router.js';
import { createTableHandle, type TableHandle } from '../adapters/dynamodb/client.js';
import { DEFAULT_TABLE_NAME, TABLE_ENV } from '../adapters/dynamodb/table.js';
import { createDynamoDbStores } from '../adapters/dynamodb/stores.js';
import { createJsonLogger } from '../adapters/json-logger.js';
import { clockStartingAt, randomIds, sha256Hex, systemClock } from '../adapters/system.js';
import { tokenEntries } from '../domain/config.js';
import { parseCidr } from '../domain/endpoint-address.js';
import type { Workflow } from '../ports/workflow.js';
import type { CrashPoints } from '../ports/crash-points.js';
import { coalescingPublisher } from '../usecases/coalescing-publisher.js';
import { analysisCatalogOf, canarySettingsOf, metricsProvidersOf, workflowFromEnv } from './canary.js';
import { callerAuthOf } from './callers.js';
import { rulesServicesOf } from './policy.js';
import { notificationsOf, type NotificationsRuntime } from './notifications.js';

export interface RuntimeOptions {
  env: Record<string, string | undefined>;
  /** True in AWS and GCP: the configuration file must exist. */
  configRequired: boolean;
  /** A table handle already built (the local stack's embedded store); default: from the environment. */
  table?: TableHandle;
  /** Tokens besides the configured ones (the local stack's admin token). */
  extraTokens?: readonly TokenEntry[];
  /**
   * Signs every AWS call (DynamoDB, Step Functions, CloudWatch, EKS): the GCP functions'
   * (runtime/gcp-aws-credentials.ts). Default: the SDK's default chain (Lambda's role), or for a
   * local DynamoDB endpoint the keys `env` names.
   */
  awsCredentials?: AwsCredentialsProvider;
  /** Tests only: where the process may be made to die (the local stack wires them from the environment). */
  crashPoints?: CrashPoints;
  logger?: Logger;
  /**
   * Builds endpoint discovery (runtime/discovery.ts) for entry points that register versions.
   * Without it, discovery answers that this function does not do it: routes that need it are
   * served by another function (shared/http/route.ts `functionName`).
   */
  discovery?: (clusters: readonly ClusterConfig[], env: Record<string, string | undefined>, awsCredentials?: AwsCredentialsProvider) => ClusterProvider;
  /**
   * Builds the workflow engine from the finished deps (the local stack's in-process state machine
   * runs the canary tasks on them); default: Step Functions from the environment.
   */
  workflow?: (deps: RuntimeDeps) => Workflow;
}

export interface RuntimeDeps extends HttpDeps {
  /** Which configuration was loaded: a path, or 'embedded defaults'. */
  configSource: string;
  /** Configured notification destinations and their dispatcher (runtime/notifications.ts); absent when none are. */
  notifications?: NotificationsRuntime;
}

export function buildHttpDeps(options: RuntimeOptions): RuntimeDeps {
  const { env, awsCredentials } = options;
  const logger = options.logger ?? createJsonLogger({ level: logLevel(env['CROSSFADE_LOG_LEVEL']) });
  const { config, source } = loadConfig(env, { required: options.configRequired });
  if (config.clock && options.configRequired) throw new ConfigError(`${source}: clock.startsAt: is for the local stack (npm start) only; the cloud functions run on the real clock`, 'clock.startsAt');
  const clock = config.clock ? clockStartingAt(new Date(config.clock.startsAt)) : systemClock;
  const table = options.table ?? tableFromEnv(env, awsCredentials);
  const stores = createDynamoDbStores(table);
  if (config.clock) logger.warn('the clock is set by the configuration: calendar rules and timestamps follow it, not the real time', { startsAt: config.clock.startsAt, now: clock.now().toISOString() });
  logger.info('configuration loaded', { source, clusters: config.clusters.length, proxyGroups: config.proxyGroups.length, tokens: config.tokens.length, iamPrincipals: config.iamPrincipals.length, googlePrincipals: config.googlePrincipals.length, table: table.tableName });
  const deps: RuntimeDeps = {
    ...stores,
    workflow: workflowFromEnv(env, awsCredentials),
    metrics: metricsProvidersOf(config, env, awsCredentials),
    analysis: analysisCatalogOf(config),
    settings: canarySettingsOf(config),
    policyRules: config.policy.rules,
    rulesServices: rulesServicesOf(config, env, awsCredentials),
    clock,
    ids: randomIds,
    hash: sha256Hex,
    logger,
    clusters: config.clusters.map((c) => ({ name: c.name, cloud: c.cloud, region: c.cloud === 'aws' ? c.region : c.location })),
    proxyGroups: config.proxyGroups,
    // Validated when the configuration was parsed.
    allowedEndpointCidrs: config.mesh.allowedEndpointCidrs.map((text) => parseCidr(text)!),
    clusterProvider: options.discovery?.(config.clusters, env, awsCredentials) ?? noDiscovery,
    routers: { haproxy: new HaproxyTrafficRouter() },
    tokens: indexTokens([...tokenEntries(config), ...(options.extraTokens ?? [])]),
    callers: callerAuthOf(config, systemClock),
    publicBaseUrl: config.publicBaseUrl,
    version: packageVersion,
    configSource: source,
    ...(options.crashPoints ? { crashPoints: options.crashPoints } : {}),
  };
  const notifications = notificationsOf(config, env, { outbox: stores.outbox, clock: deps.clock, logger, version: packageVersion, awsCredentials });
  if (notifications) Object.assign(deps, { notifications, notifier: notifications.notifier });
  deps.publish = coalescingPublisher(deps);
  if (options.workflow) deps.workflow = options.workflow(deps);
  return deps;
}

export function tableFromEnv(env: Record<string, string | undefined>, awsCredentials?: AwsCredentialsProvider): TableHandle {
  const endpoint = env['CROSSFADE_DYNAMODB_ENDPOINT'];
  return createTableHandle(
    {
      region: regionFromEnv(env),
      endpoint,
      credentials: awsCredentials ?? (endpoint ? localCredentials(env) : undefined),
      // A local endpoint serves a whole local stack from one process (client.ts explains).
      ...(endpoint ? { maxSockets: 256, connectionTimeoutMs: 10_000 } : {}),
    },
    env[TABLE_ENV] ?? DEFAULT_TABLE_NAME,
  );
}

export function regionFromEnv(env: Record<string, string | undefined>): string {
  return env['AWS_REGION'] ?? env['AWS_DEFAULT_REGION'] ?? 'us-east-1';
}

/**
 * Local endpoints accept any signature, but DynamoDB Local scopes tables by access key, so use the
 * keys `env` names when it names them (from `env`, not the SDK's reading of process.env).
 * Without a local endpoint the SDK's default chain applies (Lambda's role) unless the entry point
 * gives credentials (GCP: runtime/gcp-aws-credentials.ts).
 */
function localCredentials(env: Record<string, string | undefined>): { accessKeyId: string; secretAccessKey: string } {
  const accessKeyId = env['AWS_ACCESS_KEY_ID'];
  const secretAccessKey = env['AWS_SECRET_ACCESS_KEY'];
  return accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : { accessKeyId: 'local', secretAccessKey: 'local' };
}

const noDiscovery: ClusterProvider = {
  discoverEndpoints: () => Promise.reject(new InternalError('endpoint discovery is not part of this function (see functions/services.ts)')),
};

function logLevel(value: string | undefined): 'info' | 'warn' | 'error' | 'silent' {
  return value === 'warn' || value === 'error' || value === 'silent' ? value : 'info';
}
