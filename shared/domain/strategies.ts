/**
 * Ready-made plans a caller may name instead of listing steps (`"strategy": "canary-5-25-50-100"`),
 * as Argo Rollouts' and Flagger's users reach for the same few shapes again and again. Each
 * expands to ordinary steps, which are then compiled and checked like any others. When the body
 * names an `analysis` (a template, interval and count), it is run after every traffic step but
 * the last; without one, a timed pause stands in its place.
 *
 * - `canary-5-25-50-100`: 5%, 25%, 50%, then 100%.
 * - `linear-<n>` (n = 5, 10, 20, 25, 50): n%, 2n%, ... up to 100%.
 * - `blue-green`: the new version registered at 0%, a manual gate (test it, then `promote`), 100%.
 */
import { ValidationError } from './errors.js';
import type { WireStep } from './plan.js';

export const STRATEGY_NAMES = ['canary-5-25-50-100', 'linear-5', 'linear-10', 'linear-20', 'linear-25', 'linear-50', 'blue-green'] as const;
export type StrategyName = (typeof STRATEGY_NAMES)[number];

/** What stands between two traffic steps when the body names no analysis. */
export const DEFAULT_STRATEGY_PAUSE = '5m';

export type StrategyAnalysis = Extract<WireStep, { analysis: unknown }>['analysis'];

export function isStrategyName(name: string): name is StrategyName {
  return (STRATEGY_NAMES as readonly string[]).includes(name);
}

/** The steps of a named strategy. Throws ValidationError (field `strategy`) for an unknown name. */
export function strategySteps(name: string, analysis: StrategyAnalysis | undefined): WireStep[] {
  if (!isStrategyName(name)) throw new ValidationError(`strategy "${name}" is not one of ${STRATEGY_NAMES.join(', ')}`, 'strategy', 'known-strategy');
  if (name === 'blue-green') return [{ setWeight: 0 }, { pause: {} }, { setWeight: 100 }];
  const weights = name === 'canary-5-25-50-100' ? [5, 25, 50, 100] : linear(Number(name.slice('linear-'.length)));
  const between: WireStep = analysis ? { analysis } : { pause: { duration: DEFAULT_STRATEGY_PAUSE } };
  return weights.flatMap((percent, index): WireStep[] => (index < weights.length - 1 ? [{ setWeight: percent }, between] : [{ setWeight: percent }]));
}

function linear(stepPercent: number): number[] {
  return Array.from({ length: 100 / stepPercent }, (_, index) => (index + 1) * stepPercent);
}
