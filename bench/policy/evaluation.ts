/**
 * Scenario `policy/evaluation`: what judging one create costs with 50 rules of every kind
 * (rules.ts), the pure part only (`evaluatePolicy`: no store, no I/O). The input is a create in
 * prod while 20 other canaries hold every cap scope's slots and one service rolls back. Each call is asked at another
 * moment, spread over two weeks, so the calendar rules meet their windows as a day's creates do
 * (some inside a weekly freeze: those refusals compute when the freeze ends).
 */
import type { AnalysisTemplate } from '../../shared/domain/analysis.js';
import type { Step } from '../../shared/domain/deployment.js';
import { capScopes } from '../../shared/domain/policy/concurrency-cap.js';
import { evaluatePolicy } from '../../shared/domain/policy/evaluate.js';
import type { PolicyInput } from '../../shared/domain/policy/input.js';
import type { PolicyRule } from '../../shared/domain/policy/types.js';
import { sized } from '../lib/size.js';
import { roundMs, summarize } from '../lib/stats.js';
import type { ScenarioOutcome } from '../lib/suite.js';
import { formatCount, type Table } from '../lib/table.js';
import { AIMS } from './aims.js';
import { fiftyRules, RULE_COUNT } from './rules.js';

const WARM_UP_CALLS = sized(2_000, 10);
const CALLS = sized(20_000, 100);
const SPREAD_MS = 14 * 86_400_000;
/** A fixed moment: the same instants every run. */
const START = Date.UTC(2026, 10, 2, 9, 30);

/** 20 canaries holding the slots of every scope each cap would count this create in. */
function withHolders(input: PolicyInput, rules: readonly PolicyRule[]): PolicyInput {
  const holders = Array.from({ length: 20 }, (_, i) => `dep_other${i}`);
  const scopes = rules.flatMap((rule) => (rule.kind === 'concurrency-cap' ? capScopes(rule, input.deployment) : []));
  return { ...input, capHolders: Object.fromEntries(scopes.map((scope) => [scope.key, holders])) };
}

function inputAt(now: Date): PolicyInput {
  const template = { name: 'golden' } as unknown as AnalysisTemplate; // the rules count judgments, they never read a template
  const steps: Step[] = [
    { kind: 'setWeight', canaryPercent: 5, wave: ['gcp'] },
    { kind: 'analysis', template, intervalSeconds: 60, count: 5 },
    { kind: 'setWeight', canaryPercent: 50, wave: null },
    { kind: 'pause', durationSeconds: null },
    { kind: 'setWeight', canaryPercent: 100, wave: null },
  ];
  return {
    deployment: { service: 'bench-checkout', environment: 'prod', canaryVersion: 'v42', steps, createdBy: 'pipeline', clouds: ['aws', 'gcp'], proxyGroups: ['envoy-aws-use1', 'envoy-gcp-usc1'] },
    moment: 'create',
    principal: 'pipeline',
    now,
    capHolders: {},
    succeededIn: ['dev', 'staging'],
    rollingBack: ['legacy-billing'],
  };
}

export async function measureEvaluation(): Promise<ScenarioOutcome> {
  const rules = fiftyRules(new Date(START), 'staging');
  const base = withHolders(inputAt(new Date(START)), rules);
  const at = (i: number) => ({ ...base, now: new Date(START + ((i * 7_919_993) % SPREAD_MS)) });
  let refusals = 0;
  for (let i = 0; i < WARM_UP_CALLS; i++) evaluatePolicy(rules, at(i));
  const micros: number[] = new Array(CALLS);
  for (let i = 0; i < CALLS; i++) {
    const input = at(WARM_UP_CALLS + i);
    const started = performance.now();
    const decision = evaluatePolicy(rules, input);
    micros[i] = (performance.now() - started) * 1000;
    if (decision.verdicts.length !== RULE_COUNT) throw new Error(`${decision.verdicts.length} of the ${RULE_COUNT} rules applied: the bench's input misses some`);
    if (!decision.allowed) refusals++;
  }
  const summary = summarize(micros);
  const table: Table = {
    title: `policy evaluation: ${RULE_COUNT} rules, one create (pure, µs)`,
    columns: [{ header: 'calls', align: 'right' }, { header: 'refused', align: 'right' }, { header: 'p50 µs', align: 'right' }, { header: 'p99 µs', align: 'right' }, { header: 'max µs', align: 'right' }, { header: 'mean µs', align: 'right' }],
    rows: [[formatCount(CALLS), formatCount(refusals), summary.p50.toFixed(1), summary.p99.toFixed(1), summary.max.toFixed(0), summary.mean.toFixed(1)]],
    notes: [
      `evaluatePolicy() over 8 one-off and 8 weekly freezes, 8 deploy windows (8 IANA zones), 8 concurrency caps (global, cloud, proxy group; 20 canaries holding each scope's slots), 6 required-analysis, 4 promotion-order, 4 four-eyes, 4 dependency-health rules, all applying.`,
      `Each call at another moment over two weeks (${formatCount(WARM_UP_CALLS)} warm-up calls first); timed one by one with performance.now().`,
      `Aim: ${AIMS.evaluation}.`,
    ],
  };
  return { tables: [table], results: [{ rules: RULE_COUNT, calls: CALLS, refused: refusals, p50Us: roundMs(summary.p50), p99Us: roundMs(summary.p99), maxUs: roundMs(summary.max), meanUs: roundMs(summary.mean) }] };
}
