/**
 * The canary's parts of the composition root: metrics providers from crossfade.yaml, the workflow
 * engine, the analysis catalog and the canary settings.
 *
 * Environment:
 *   CROSSFADE_STATE_MACHINE_ARN  the canary state machine (AWS); without it (and without a local
 *                                runner) starting a deployment's run is refused as unavailable
 */
import type { CrossfadeConfig } from '../domain/config.js';
import { DependencyUnavailableError } from '../domain/errors.js';
import type { MetricsProvider } from '../ports/metrics-provider.js';
import type { Workflow } from '../ports/workflow.js';
import type { CanarySettings } from '../usecases/canary/deps.js';
import type { AnalysisCatalog } from '../domain/plan.js';
import { createMetricsProvider, type MetricsProviderSettings } from '../adapters/metrics/index.js';
import { StepFunctionsWorkflow } from '../adapters/workflow/step-functions.js';
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

export function analysisCatalogOf(config: CrossfadeConfig): AnalysisCatalog {
  return { templates: config.analysis.templates, providers: config.analysis.providers.map((p) => p.name) };
}

export function canarySettingsOf(config: CrossfadeConfig): CanarySettings {
  return { lockLeaseMs: config.canary.lockLeaseSeconds * 1000, policyRecheckSeconds: config.policy.recheckSeconds };
}

export function workflowFromEnv(env: Record<string, string | undefined>, awsCredentials?: AwsCredentialsProvider): Workflow {
  const arn = env['CROSSFADE_STATE_MACHINE_ARN'];
  const endpoint = env['AWS_ENDPOINT_URL_SFN'];
  if (arn) return new StepFunctionsWorkflow(arn, { ...(endpoint ? { endpoint } : {}), ...(awsCredentials ? { credentials: awsCredentials } : {}) });
  const refuse = (): Promise<never> => Promise.reject(new DependencyUnavailableError('canary workflow', 'reach the state machine (CROSSFADE_STATE_MACHINE_ARN is not set)'));
  return { start: refuse, wake: refuse, executionState: refuse };
}
