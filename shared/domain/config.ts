/**
 * crossfade.yaml: the clouds' clusters, the proxy groups and their proxies, the API tokens (hashes
 * only) and the business rules (`policy`, domain/policy/schema.ts). Validated whole at start-up; an error names the
 * key (`clusters[1].region`). docs/configuration.md documents every key.
 */
import * as z from 'zod/mini';
import { ConfigError } from './errors.js';
import { analysisConfigSchema } from './analysis-schema.js';
import { checkTemplate } from './analysis.js';
import { CIDR_RULE, parseCidr } from './endpoint-address.js';
import { DEFAULT_XDS_TRANSPORT } from './mesh.js';
import { RESOURCE_NAME_PATTERN } from './names.js';
import { principalKeys, scopeList } from './principals.js';
import { describeIssue } from './schema-issues.js';
import { checkPolicyNames, checkPolicyRules, NO_POLICY, policySchema } from './policy/schema.js';
import { checkOutboundUrl, DEFAULT_OUTBOUND } from './outbound.js';
import { NO_NOTIFICATIONS, notificationsSchema, notificationUrls } from './notifications/schema.js';
import { parseScope, type Scope } from './scopes.js';

const name = z.string().check(z.regex(RESOURCE_NAME_PATTERN, 'must be a DNS-1123 label (lower-case letters, digits, "-")'));
const text = (min: number, max: number) => z.string().check(z.minLength(min, 'must not be empty'), z.maxLength(max, `must be at most ${max} characters`));

const awsCluster = z.strictObject({
  name,
  cloud: z.literal('aws'),
  region: z.string().check(z.regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as us-east-1')),
  /** The EKS cluster's own name, when it differs from `name`. */
  eksClusterName: z.optional(text(1, 100)),
});

const gcpCluster = z.strictObject({
  name,
  cloud: z.literal('gcp'),
  project: z.string().check(z.regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, 'must be a GCP project id')),
  location: z.string().check(z.regex(/^[a-z]+-[a-z]+\d(-[a-z])?$/, 'must be a GCP region or zone such as us-central1')),
  /** The GKE cluster's own name, when it differs from `name`. */
  gkeClusterName: z.optional(text(1, 40)),
});

const cluster = z.discriminatedUnion('cloud', [awsCluster, gcpCluster]);

const seconds = (min: number, max: number, fallback: number) =>
  z._default(z.int().check(z.minimum(min, `must be from ${min} to ${max}`), z.maximum(max, `must be from ${min} to ${max}`)), fallback);

/** mesh.ts `XdsTransport`; docs/configuration.md says when to pick which. */
const xdsTransport = z.discriminatedUnion('api', [
  z.strictObject({
    api: z.literal('rest'),
    /** The static cluster of the Envoy bootstrap that reaches the discovery function (Envoy sends it as Host). */
    clusterName: z._default(z.string().check(z.regex(/^[A-Za-z0-9._-]{1,253}$/, 'must be 1-253 letters, digits, ".", "_" or "-"')), DEFAULT_XDS_TRANSPORT.clusterName),
    refreshDelaySeconds: seconds(1, 300, DEFAULT_XDS_TRANSPORT.refreshDelaySeconds),
    requestTimeoutSeconds: seconds(1, 60, DEFAULT_XDS_TRANSPORT.requestTimeoutSeconds),
  }),
  z.strictObject({ api: z.literal('ads') }),
]);

const envoyGroup = z.strictObject({
  name,
  kind: z.literal('envoy'),
  cloud: z.enum(['aws', 'gcp'], 'must be aws or gcp'),
  region: text(1, 64),
  /** Envoy node ids (or proxyless gRPC client ids) that belong to this group. */
  proxies: z._default(z.array(z.strictObject({ nodeId: text(1, 256) })), []),
  xds: z._default(xdsTransport, { ...DEFAULT_XDS_TRANSPORT }),
  /** The service whose sidecars these proxies are: the group sees only its dependencies and `mesh.alwaysVisible` (domain/dependencies.ts). */
  sidecarOf: z.optional(name),
});

const haproxyGroup = z.strictObject({
  name,
  kind: z.literal('haproxy'),
  cloud: z.enum(['aws', 'gcp'], 'must be aws or gcp'),
  region: text(1, 64),
  proxies: z._default(
    z.array(
      z.strictObject({
        name,
        /** The Runtime API: `host:port` on a private network, or `unix:/path/to/socket`. */
        runtimeApi: z.string().check(z.regex(/^(unix:\/.+|[a-zA-Z0-9.-]+:\d{1,5})$/, 'must be host:port or unix:/path')),
      }),
    ),
    [],
  ),
});

const proxyGroup = z.discriminatedUnion('kind', [envoyGroup, haproxyGroup]);

/** What the mesh may route to (domain/endpoint-address.ts). */
const mesh = z.strictObject({
  /** Networks whose endpoints are accepted although loopback, link-local, unspecified, multicast or metadata. */
  allowedEndpointCidrs: z._default(z.array(z.string().check(z.refine((text) => parseCidr(text) !== undefined, `must be ${CIDR_RULE}`))), []),
  /** Services every sidecar group sees besides its service's dependencies (an auth or a telemetry service every service calls). */
  alwaysVisible: z._default(z.array(name), []),
});

const token = z.strictObject({
  /** Who the token belongs to; recorded as the actor of every change it makes. */
  id: z.string().check(z.regex(/^[a-zA-Z0-9._-]{1,64}$/, 'must be 1-64 letters, digits, ".", "_" or "-"')),
  /** sha256 of the token, lower-case hex. The token itself is never stored. */
  sha256: z.string().check(z.regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex characters (sha256 of the token)')),
  scopes: scopeList,
});

export const configSchema = z.strictObject({
  /** The public base URL (`https://crossfade.example.com`) used in Location and status URLs; when unset, derived from the request. */
  publicBaseUrl: z.optional(
    z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).check(z.refine((url) => !url.endsWith('/'), 'must not end with "/"')),
  ),
  clusters: z._default(z.array(cluster), []),
  proxyGroups: z._default(z.array(proxyGroup), []),
  mesh: z._default(mesh, { allowedEndpointCidrs: [], alwaysVisible: [] }),
  tokens: z._default(z.array(token), []),
  /** Cloud identities as callers (domain/principals.ts, docs/direct-invocation.md). */
  ...principalKeys,
  /** Metrics providers and analysis templates (domain/analysis-schema.ts, docs/configuration.md). */
  analysis: z._default(analysisConfigSchema, { providers: [], templates: [] }),
  /** How the canary state machine runs. */
  canary: z._default(
    z.strictObject({
      /**
       * The service lock's lease, renewed by every task of a live run (a hold renews it for as long
       * as it lasts, plus this); a run whose process died is resumed from its stored state, and a
       * run nobody resumes stops renewing, so the lock frees itself.
       */
      lockLeaseSeconds: seconds(60, 86400, 1800),
    }),
    { lockLeaseSeconds: 1800 },
  ),
  /** Business rules (domain/policy/, docs/policy.md); none by default. */
  policy: z._default(policySchema, NO_POLICY),
  /**
   * The local stack only (`npm start`): its clock starts at this instant and runs at real speed, so
   * calendar rules (freeze and deploy windows) can be tried at any date. The cloud functions refuse
   * it (runtime/deps.ts): they run on the real clock.
   */
  clock: z.optional(z.strictObject({ startsAt: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 instant with a zone (2026-12-24T07:59:50Z)' }) })),
  /** Where crossfade's own requests may go (domain/outbound.ts). */
  outbound: z._default(
    z.strictObject({ allowedHosts: z.array(z.string().check(z.regex(/^[A-Za-z0-9.*:[\]-]{1,253}$/, 'must be a host name, an address or a glob of one'))) }),
    { allowedHosts: [...DEFAULT_OUTBOUND.allowedHosts] },
  ),
  /** Where notifications go (domain/notifications/, docs/notifications.md); none by default. */
  notifications: z._default(notificationsSchema, NO_NOTIFICATIONS),
});

export type CrossfadeConfig = z.infer<typeof configSchema>;
export type ClusterConfig = z.infer<typeof cluster>;
export type TokenConfig = z.infer<typeof token>;

export interface TokenEntry {
  id: string;
  sha256: string;
  scopes: Scope[];
}

/** Validates a parsed document (from YAML or JSON); throws ConfigError naming the first bad key. */
export function parseConfig(document: unknown, source: string): CrossfadeConfig {
  const parsed = configSchema.safeParse(document ?? {}, { reportInput: true });
  if (!parsed.success) {
    const { field, message } = describeIssue(parsed.error.issues[0]!);
    throw new ConfigError(`${source}: ${message}`, field);
  }
  const config = parsed.data;
  assertUnique(config.clusters.map((c) => c.name), 'clusters', source);
  assertUnique(config.proxyGroups.map((g) => g.name), 'proxyGroups', source);
  assertUnique(config.tokens.map((t) => t.id), 'tokens', source);
  if (config.googlePrincipals.length > 0 && config.identity.google === undefined) {
    throw new ConfigError(`${source}: identity.google: is required when googlePrincipals are listed (its audience is the function URL ID tokens are made for)`, 'identity.google');
  }
  assertUnique(config.analysis.providers.map((p) => p.name), 'analysis.providers', source);
  assertUnique(config.analysis.templates.map((t) => t.name), 'analysis.templates', source);
  assertUnique(config.notifications.webhooks.map((w) => w.name), 'notifications.webhooks', source);
  const providers = config.analysis.providers.map((p) => p.name);
  config.analysis.templates.forEach((template, index) => withSource(source, () => checkTemplate(template, `analysis.templates[${index}]`, providers)));
  withSource(source, () => checkPolicyRules(config.policy.rules, 'policy.rules'));
  withSource(source, () => checkPolicyNames(config.policy.rules, config.policy.external));
  for (const { key, url } of outboundUrls(config)) withSource(source, () => checkOutboundUrl(url, key, config.outbound));
  return config;
}

/** Every URL crossfade itself sends requests to, with its key: each is checked against `outbound` when the configuration loads. */
function outboundUrls(config: CrossfadeConfig): { key: string; url: string }[] {
  const providers = config.analysis.providers.flatMap((provider, index) => {
    const url = provider.kind === 'prometheus' ? provider.url : provider.kind === 'cloudwatch' ? provider.endpoint : undefined;
    return url === undefined ? [] : [{ key: `analysis.providers[${index}].${provider.kind === 'prometheus' ? 'url' : 'endpoint'}`, url }];
  });
  const rulesServices = config.policy.external.map((endpoint, index) => ({ key: `policy.external[${index}].url`, url: endpoint.url }));
  return [...providers, ...rulesServices, ...notificationUrls(config.notifications)];
}

export function tokenEntries(config: CrossfadeConfig): TokenEntry[] {
  return config.tokens.map((t) => ({ id: t.id, sha256: t.sha256, scopes: t.scopes.map((s) => parseScope(s)!) }));
}

/** What the local stack runs with when there is no crossfade.yaml: one cluster per cloud. */
export const embeddedDefaults: CrossfadeConfig = {
  clusters: [
    { name: 'eks-use1', cloud: 'aws', region: 'us-east-1' },
    { name: 'gke-usc1', cloud: 'gcp', project: 'crossfade-local', location: 'us-central1' },
  ],
  proxyGroups: [
    { name: 'envoy-aws-use1', kind: 'envoy', cloud: 'aws', region: 'us-east-1', proxies: [], xds: { ...DEFAULT_XDS_TRANSPORT } },
    { name: 'envoy-gcp-usc1', kind: 'envoy', cloud: 'gcp', region: 'us-central1', proxies: [], xds: { ...DEFAULT_XDS_TRANSPORT } },
  ],
  mesh: { allowedEndpointCidrs: [], alwaysVisible: [] },
  tokens: [],
  identity: { aws: { audience: 'crossfade', stsEndpoints: [] } },
  iamPrincipals: [],
  googlePrincipals: [],
  // docs/api.md's example plan names `http-golden-signals`; locally it reads a Prometheus on its default port.
  analysis: {
    providers: [{ name: 'prometheus', kind: 'prometheus', url: 'http://127.0.0.1:9090' }],
    templates: [
      {
        name: 'http-golden-signals',
        stepSeconds: 10,
        thresholds: { pass: 95, marginal: 75 },
        groupWeights: { errors: 60, latency: 40 },
        metrics: [
          {
            name: 'error-ratio',
            group: 'errors',
            provider: 'prometheus',
            query: 'sum(rate(http_requests_total{service="{{service}}",version="{{version}}",code=~"5.."}[30s])) / sum(rate(http_requests_total{service="{{service}}",version="{{version}}"}[30s]))',
            direction: 'increase',
            critical: true,
            noData: 'wait',
            spreadCheck: false,
          },
          {
            name: 'latency-p99',
            group: 'latency',
            provider: 'prometheus',
            query: 'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{service="{{service}}",version="{{version}}"}[30s])))',
            direction: 'increase',
            critical: false,
            noData: 'ignore',
            spreadCheck: true,
          },
        ],
      },
    ],
  },
  canary: { lockLeaseSeconds: 1800 },
  policy: { rules: [], external: [], recheckSeconds: 60 },
  outbound: { allowedHosts: ['*'] },
  notifications: { webhooks: [], delivery: { ...NO_NOTIFICATIONS.delivery } },
};

/** Runs a check that throws an error naming a field (ValidationError's `field`, ConfigError's `key`) as a ConfigError prefixed with the file. */
function withSource(source: string, check: () => void): void {
  try {
    check();
  } catch (error) {
    const field = (error as { field?: string }).field ?? (error as { key?: string }).key;
    throw new ConfigError(`${source}: ${(error as Error).message}`, field);
  }
}

function assertUnique(names: string[], key: string, source: string): void {
  const seen = new Set<string>();
  names.forEach((value, index) => {
    const field = `${key}[${index}].${key === 'tokens' ? 'id' : 'name'}`;
    if (seen.has(value)) throw new ConfigError(`${source}: ${field}: "${value}" is defined twice`, field);
    seen.add(value);
  });
}
