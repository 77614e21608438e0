/**
 * Builds the configured MetricsProviders: one adapter per monitoring system, chosen by `kind`.
 * An unknown kind is a ConfigError, never a silent fallback. Every client inside is lazy, so an
 * entry point may build all providers once per cold start and pay only for the ones a judgment uses.
 */
import { ConfigError, NotFoundError } from '../../domain/errors.js';
import type { MetricsProvider, MetricsQueryChecker } from '../../ports/metrics-provider.js';
import { createCloudMonitoringProvider, type CloudMonitoringSettings } from './cloud-monitoring.js';
import { createCloudWatchProvider, type CloudWatchSettings } from './cloudwatch.js';
import { createPrometheusProvider, type PrometheusAuthorization, type PrometheusSettings } from './prometheus.js';

export type { CloudMonitoringSettings, CloudWatchSettings, PrometheusAuthorization, PrometheusSettings };

export type MetricsProviderSettings = PrometheusSettings | CloudWatchSettings | CloudMonitoringSettings;

export const METRICS_PROVIDER_KINDS = ['prometheus', 'cloudwatch', 'cloud-monitoring'] as const satisfies readonly MetricsProviderSettings['kind'][];

/** A provider, able to check queries before a deployment starts, and the clients it holds; close() once, when the process is done with it. */
export type ClosableMetricsProvider = MetricsProvider & MetricsQueryChecker & { close(): Promise<void> };

export function createMetricsProvider(settings: MetricsProviderSettings): ClosableMetricsProvider {
  switch (settings.kind) {
    case 'prometheus':
      // fetch's connections belong to node's global pool: nothing of the provider's own to close.
      return { ...createPrometheusProvider(settings), close: async () => {} };
    case 'cloudwatch':
      return createCloudWatchProvider(settings);
    case 'cloud-monitoring':
      return createCloudMonitoringProvider(settings);
    default: {
      const unknown = settings as { name?: unknown; kind?: unknown };
      throw new ConfigError(`metrics provider ${String(unknown.name)}: kind "${String(unknown.kind)}" is none of ${METRICS_PROVIDER_KINDS.join(', ')}`, 'kind');
    }
  }
}

export interface MetricsProviders {
  /** The provider configured as `name`; NotFoundError when there is none (an analysis template naming a provider that is not configured). */
  get(name: string): MetricsProvider;
  close(): Promise<void>;
}

/** Every configured provider, by name; two with one name are a ConfigError. */
export function createMetricsProviders(settings: readonly MetricsProviderSettings[]): MetricsProviders {
  const byName = new Map<string, ClosableMetricsProvider>();
  for (const [index, entry] of settings.entries()) {
    if (byName.has(entry.name)) throw new ConfigError(`metrics provider ${entry.name} is configured twice`, `[${index}].name`);
    byName.set(entry.name, createMetricsProvider(entry));
  }
  return {
    get(name) {
      const provider = byName.get(name);
      if (provider === undefined) throw new NotFoundError(`metrics provider ${name} is not configured (configured: ${[...byName.keys()].join(', ') || 'none'})`);
      return provider;
    },
    async close() {
      await Promise.all([...byName.values()].map((provider) => provider.close()));
    },
  };
}
