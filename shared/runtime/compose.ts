/**
 * The composition every entry point but health shares: the core (runtime/core.ts), the table and
 * its stores, the mesh's parts, and whichever capabilities the entry point hands in. A capability
 * is a builder imported by the entry point from its own module (runtime/workflow.ts, metrics.ts,
 * policy.ts, notifications.ts, discovery.ts), so a Lambda bundle holds only the capabilities its
 * routes use; one left out answers that it is not part of this function. runtime/deps.ts hands in
 * every one (GCP, the local stack). docs/architecture.md "Cold start" says which function has which.
 *
 * Environment:
 *   CROSSFADE_TABLE              the DynamoDB table (default `crossfade`)
 *   CROSSFADE_DYNAMODB_ENDPOINT  a local endpoint (DynamoDB Local, the embedded store); unset in the cloud
 *   AWS_REGION                   the table's region (set by Lambda; set it on GCP)
 *   CROSSFADE_CONFIG             the configuration file (see adapters/config-file.ts)
 *   CROSSFADE_LOG_LEVEL          info (default), warn, error or silent
 */
import type { ClusterConfig } from '../domain/config.js';
import { InternalError } from '../domain/errors.js';
import type { ClusterProvider } from '../ports/cluster-provider.js';
import type { AwsCredentialsProvider } from '../adapters/clusters/eks.js';
import type { HttpDeps } from '../http/routes.js';
import { HaproxyTrafficRouter } from '../adapters/haproxy/haproxy-router.js';
import { createTableHandle, type TableHandle } from '../adapters/dynamodb/client.js';
import { DEFAULT_TABLE_NAME, TABLE_ENV } from '../adapters/dynamodb/table.js';
import { createDynamoDbStores } from '../adapters/dynamodb/stores.js';
import { randomIds, sha256Hex } from '../adapters/system.js';
import { parseCidr } from '../domain/endpoint-address.js';
import type { Workflow } from '../ports/workflow.js';
import type { CrashPoints } from '../ports/crash-points.js';
import { coalescingPublisher } from '../usecases/coalescing-publisher.js';
import { EnvoyTrafficRouter } from '../usecases/envoy-router.js';
import type { CrossfadeConfig } from '../domain/config.js';
import type { MetricsProvider } from '../ports/metrics-provider.js';
import type { ConfiguredRulesService } from '../ports/external-rules.js';
import { analysisCatalogOf, canarySettingsOf } from './canary.js';
import { buildCore, regionFromEnv, type CoreOptions } from './core.js';
import type { NotificationsOf, NotificationsRuntime } from './notifications.js';

type Env = Record<string, string | undefined>;

export interface RuntimeOptions extends CoreOptions {
  /** A table handle already built (the local stack's embedded store); default: from the environment. */
  table?: TableHandle;
  /**
   * Signs every AWS call (DynamoDB, Step Functions, CloudWatch, EKS): the GCP functions'
   * (runtime/gcp-aws-credentials.ts). Default: the SDK's default chain (Lambda's role), or for a
   * local DynamoDB endpoint the keys `env` names.
   */
  awsCredentials?: AwsCredentialsProvider;
  /** Tests only: where the process may be made to die (the local stack wires them from the environment). */
  crashPoints?: CrashPoints;
  /**
   * Builds endpoint discovery (runtime/discovery.ts) for entry points that register versions.
   * Without it, discovery answers that this function does not do it: routes that need it are
   * served by another function (shared/http/route.ts `functionName`).
   */
  discovery?: (clusters: readonly ClusterConfig[], env: Env, awsCredentials?: AwsCredentialsProvider) => ClusterProvider;
  /** Starts, wakes and asks about canary runs (runtime/workflow.ts). Without it: refused as not part of this function. */
  runs?: (env: Env, awsCredentials?: AwsCredentialsProvider) => Workflow;
  /** The configured metrics providers (runtime/metrics.ts). Without it: none. */
  metrics?: (config: CrossfadeConfig, env: Env, awsCredentials?: AwsCredentialsProvider) => Map<string, MetricsProvider>;
  /** The external rules services (runtime/policy.ts). Without it: none. */
  rulesServices?: (config: CrossfadeConfig, env: Env, awsCredentials?: AwsCredentialsProvider) => ConfiguredRulesService[];
  /** Notification destinations and their dispatcher (runtime/notifications.ts). Without it: nothing is enqueued. */
  notifications?: NotificationsOf;
  /**
   * Builds the workflow engine from the finished deps (the local stack's in-process state machine
   * runs the canary tasks on them), in place of `runs`.
   */
  workflow?: (deps: RuntimeDeps) => Workflow;
}

export interface RuntimeDeps extends HttpDeps {
  /** Which configuration was loaded: a path, or 'embedded defaults'. */
  configSource: string;
  /** Configured notification destinations and their dispatcher (runtime/notifications.ts); absent when none are. */
  notifications?: NotificationsRuntime;
}

/** The deps of a function that serves requests or tasks: the core, the store, and the capabilities in `options`. */
export function composeDeps(options: RuntimeOptions): RuntimeDeps {
  const { env, awsCredentials } = options;
  const { config, configSource: source, clock, edge } = buildCore(options);
  const { logger } = edge;
  const table = options.table ?? tableFromEnv(env, awsCredentials);
  const stores = createDynamoDbStores(table);
  logger.info('configuration loaded', { source, clusters: config.clusters.length, proxyGroups: config.proxyGroups.length, tokens: config.tokens.length, iamPrincipals: config.iamPrincipals.length, googlePrincipals: config.googlePrincipals.length, table: table.tableName });
  const deps: RuntimeDeps = {
    ...stores,
    workflow: options.runs?.(env, awsCredentials) ?? noRuns,
    metrics: options.metrics?.(config, env, awsCredentials) ?? new Map(),
    analysis: analysisCatalogOf(config),
    settings: canarySettingsOf(config),
    policyRules: config.policy.rules,
    rulesServices: options.rulesServices?.(config, env, awsCredentials) ?? [],
    ...edge,
    clock,
    ids: randomIds,
    hash: sha256Hex,
    clusters: config.clusters.map((c) => ({ name: c.name, cloud: c.cloud, region: c.cloud === 'aws' ? c.region : c.location })),
    proxyGroups: config.proxyGroups,
    alwaysVisible: config.mesh.alwaysVisible,
    // Validated when the configuration was parsed.
    allowedEndpointCidrs: config.mesh.allowedEndpointCidrs.map((text) => parseCidr(text)!),
    clusterProvider: options.discovery?.(config.clusters, env, awsCredentials) ?? noDiscovery,
    routers: { haproxy: new HaproxyTrafficRouter() },
    configSource: source,
    ...(options.crashPoints ? { crashPoints: options.crashPoints } : {}),
  };
  const notifications = options.notifications?.(config, env, { outbox: stores.outbox, clock: deps.clock, logger, version: edge.version, awsCredentials });
  if (notifications) Object.assign(deps, { notifications, notifier: notifications.notifier });
  deps.publish = coalescingPublisher(deps);
  // Built on the deps' stores and their publisher, so it can only come once they exist.
  deps.routers = { ...deps.routers, envoy: new EnvoyTrafficRouter({ parts: deps.parts, snapshots: deps.snapshots, clock: deps.clock, logger, publish: deps.publish }) };
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

const notHere = (): Promise<never> => Promise.reject(new InternalError('canary runs are not part of this function (see functions/deployments.ts, canary.ts, reconcile.ts)'));
const noRuns: Workflow = { start: notHere, wake: notHere, executionState: notHere };
