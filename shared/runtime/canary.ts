/**
 * The canary's parts of the composition that come from crossfade.yaml alone, which every function
 * has: the analysis catalog and the canary settings. The metrics providers (runtime/metrics.ts) and
 * the state machine (runtime/workflow.ts) are capabilities of their own.
 */
import type { CrossfadeConfig } from '../domain/config.js';
import type { CanarySettings } from '../usecases/canary/deps.js';
import type { AnalysisCatalog } from '../domain/plan.js';

export function analysisCatalogOf(config: CrossfadeConfig): AnalysisCatalog {
  return { templates: config.analysis.templates, providers: config.analysis.providers.map((p) => p.name) };
}

export function canarySettingsOf(config: CrossfadeConfig): CanarySettings {
  return { lockLeaseMs: config.canary.lockLeaseSeconds * 1000, policyRecheckSeconds: config.policy.recheckSeconds };
}
