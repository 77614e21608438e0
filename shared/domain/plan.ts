/**
 * Compiling a deployment's steps (as the API receives them) into the plan the canary runs:
 * units made explicit, waves resolved against the deployment's clusters, and the rules that make a
 * plan safe checked before anything is written.
 */
import { checkTemplate, DEFAULT_THRESHOLDS, type AnalysisMetric, type AnalysisTemplate } from './analysis.js';
import type { CloudName } from './cloud.js';
import { isCloudName } from './cloud.js';
import type { Step, Target } from './deployment.js';
import { DURATION_RULE, parseDurationSeconds } from './duration.js';
import { ValidationError } from './errors.js';

export type WireStep =
  | { setWeight: number; wave?: string[] }
  | { pause: { duration?: string } }
  | {
      analysis: {
        template?: string;
        /** Inline instead of a template; the other inline fields default as in crossfade.yaml. */
        metrics?: AnalysisMetric[];
        stepSeconds?: number;
        thresholds?: AnalysisTemplate['thresholds'];
        groupWeights?: Record<string, number>;
        interval: string;
        count: number;
      };
    };

/** What a plan's analysis steps may use: crossfade.yaml's templates and providers. */
export interface AnalysisCatalog {
  templates: readonly AnalysisTemplate[];
  providers: readonly string[];
}

export interface ClusterRef {
  name: string;
  cloud: CloudName;
}

const DEFAULT_INLINE_STEP_SECONDS = 10;
export const PAUSE_LIMIT_SECONDS = 24 * 3600;
export const INTERVAL_LIMITS_SECONDS = { min: 10, max: 3600 } as const;

/**
 * @param clusters the clusters the deployment reaches: its targets, or every configured cluster.
 * Throws ValidationError naming `steps[i]...` and the rule.
 */
export function compileSteps(steps: readonly WireStep[], clusters: readonly ClusterRef[], catalog: AnalysisCatalog = { templates: [], providers: [] }): Step[] {
  const weightByCluster = new Map<string, number>(clusters.map((c) => [c.name, 0]));
  return steps.map((step, index) => {
    const field = `steps[${index}]`;
    if ('setWeight' in step) {
      const reached = resolveWave(step.wave, clusters, `${field}.wave`);
      for (const cluster of reached) {
        const before = weightByCluster.get(cluster) ?? 0;
        if (step.setWeight < before) {
          throw new ValidationError(
            `${field}.setWeight ${step.setWeight} is lower than the ${before} an earlier step gives cluster ${cluster}: weights only go up (a rollback is not a step)`,
            `${field}.setWeight`,
            'weights-never-decrease',
          );
        }
        weightByCluster.set(cluster, step.setWeight);
      }
      return { kind: 'setWeight', canaryPercent: step.setWeight, wave: step.wave ?? null };
    }
    if ('pause' in step) {
      if (step.pause.duration === undefined) return { kind: 'pause', durationSeconds: null };
      return { kind: 'pause', durationSeconds: duration(step.pause.duration, `${field}.pause.duration`, 1, PAUSE_LIMIT_SECONDS) };
    }
    const { interval, count } = step.analysis;
    const intervalSeconds = duration(interval, `${field}.analysis.interval`, INTERVAL_LIMITS_SECONDS.min, INTERVAL_LIMITS_SECONDS.max);
    return { kind: 'analysis', template: resolveTemplate(step.analysis, `${field}.analysis`, catalog), intervalSeconds, count };
  });
}

/** A named template from the catalog, or the step's inline metrics as an unnamed (`inline`) template. */
function resolveTemplate(analysis: Extract<WireStep, { analysis: unknown }>['analysis'], field: string, catalog: AnalysisCatalog): AnalysisTemplate {
  if ((analysis.template === undefined) === (analysis.metrics === undefined)) {
    throw new ValidationError(`${field} must have exactly one of template (a configured template's name) or metrics (inline)`, field, 'template-or-metrics');
  }
  if (analysis.template !== undefined) {
    const named = catalog.templates.find((t) => t.name === analysis.template);
    if (!named) {
      throw new ValidationError(
        `${field}.template "${analysis.template}" is not a configured analysis template (${catalog.templates.map((t) => t.name).join(', ') || 'none configured'})`,
        `${field}.template`,
        'known-template',
      );
    }
    return named;
  }
  const inline: AnalysisTemplate = {
    name: 'inline',
    stepSeconds: analysis.stepSeconds ?? DEFAULT_INLINE_STEP_SECONDS,
    thresholds: analysis.thresholds ?? { ...DEFAULT_THRESHOLDS },
    groupWeights: analysis.groupWeights ?? {},
    metrics: analysis.metrics!,
  };
  checkTemplate(inline, field, catalog.providers);
  return inline;
}

/** Every cluster a wave reaches: cloud names reach all their clusters; null reaches all. */
function resolveWave(wave: readonly string[] | undefined, clusters: readonly ClusterRef[], field: string): string[] {
  if (wave === undefined) return clusters.map((c) => c.name);
  const reached = new Set<string>();
  wave.forEach((entry, index) => {
    const matches = isCloudName(entry) ? clusters.filter((c) => c.cloud === entry) : clusters.filter((c) => c.name === entry);
    if (matches.length === 0) {
      throw new ValidationError(
        `${field}[${index}] "${entry}" is neither a cloud nor a cluster this deployment reaches (${clusters.map((c) => c.name).join(', ') || 'none'})`,
        `${field}[${index}]`,
        'known-wave',
      );
    }
    matches.forEach((c) => reached.add(c.name));
  });
  return [...reached];
}

function duration(text: string, field: string, minSeconds: number, maxSeconds: number): number {
  const seconds = parseDurationSeconds(text);
  if (seconds === undefined) throw new ValidationError(`${field} "${text}" is not ${DURATION_RULE}`, field, 'duration');
  if (seconds < minSeconds || seconds > maxSeconds) {
    throw new ValidationError(`${field} must be between ${minSeconds}s and ${maxSeconds}s, got ${seconds}s`, field, 'duration-range');
  }
  return seconds;
}

/** Checks that targets name configured clusters of the right cloud, each once. */
export function checkTargets(targets: readonly Target[], clusters: readonly ClusterRef[]): void {
  const seen = new Set<string>();
  targets.forEach((target, index) => {
    const field = `targets[${index}]`;
    const known = clusters.find((c) => c.name === target.cluster);
    if (!known) {
      throw new ValidationError(`${field}.cluster "${target.cluster}" is not a configured cluster (${clusters.map((c) => c.name).join(', ') || 'none configured'})`, `${field}.cluster`, 'known-cluster');
    }
    if (known.cloud !== target.cloud) {
      throw new ValidationError(`${field}.cloud is "${target.cloud}" but cluster ${target.cluster} is in ${known.cloud}`, `${field}.cloud`, 'cluster-cloud');
    }
    if (seen.has(target.cluster)) throw new ValidationError(`${field}.cluster ${target.cluster} is listed twice`, `${field}.cluster`, 'unique');
    seen.add(target.cluster);
  });
}
