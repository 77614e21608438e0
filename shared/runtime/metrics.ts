/**
 * The judgment's capability: the metrics providers of crossfade.yaml `analysis.providers`, for the
 * functions that judge a canary or check its queries (deployments, canary; GCP and the local stack
 * through deps.ts). Each provider's SDK loads with its first query (adapters/metrics/).
 */
import type { CrossfadeConfig } from '../domain/config.js';
import type { MetricsProvider } from '../ports/metrics-provider.js';
import { createMetricsProvider, type MetricsProviderSettings } from '../adapters/metrics/index.js';
import type { AwsCredentialsProvider } from '../adapters/clusters/eks.js';

export function metricsProvidersOf(config: CrossfadeConfig, env: Record<string, string | undefined>, awsCredentials?: AwsCredentialsProvider): Map<string, MetricsProvider> {
  return new Map(config.analysis.providers.map((provider) => [provider.name, createMetricsProvider(settingsOf(provider, env, awsCredentials))]));
}

function settingsOf(provider: CrossfadeConfig['analysis']['providers'][number], env: Record<string, string | undefined>, awsCredentials: AwsCredentialsProvider | undefined): MetricsProviderSettings {
  switch (provider.kind) {
    case 'prometheus': {
      const token = provider.bearerTokenEnv === undefined ? undefined : env[provider.bearerTokenEnv];
      return { kind: 'prometheus', name: provider.name, url: provider.url, ...(token ? { authorization: { kind: 'bearer', token } } : {}) };
    }
    case 'cloudwatch':
      return { kind: 'cloudwatch', name: provider.name, region: provider.region, ...(provider.endpoint ? { endpoint: provider.endpoint } : {}), ...(awsCredentials ? { credentials: awsCredentials } : {}) };
    case 'cloud-monitoring':
      return { kind: 'cloud-monitoring', name: provider.name, project: provider.project, ...(provider.apiEndpoint ? { apiEndpoint: provider.apiEndpoint } : {}) };
  }
}
