/**
 * Business rules (docs/policy.md): what a deployment must satisfy before traffic moves, and while it
 * moves. Evaluation is pure: everything a rule looks at comes in a PolicyInput, including the time.
 *
 * A rule applies to the services and environments its globs match (`*` matches any run of
 * characters; both default to `["*"]`). A verdict says whether the rule allows, why, and — when it
 * refuses for a reason that passes with time (a freeze, a deploy window) — when it would next allow.
 */

export const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** A wall-clock moment in a rule's time zone: `2026-12-24T00:00`. */
export type LocalDateTime = string;
/** A wall-clock time of day: `16:00`. */
export type LocalTime = string;

export interface RuleScope {
  /** Service-name globs. */
  services: string[];
  /** Environment globs; a deployment without an environment matches only `*`. */
  environments: string[];
}

interface RuleBase extends RuleScope {
  name: string;
}

/** No deploys inside the window: a one-off span or a weekly recurring one, in an IANA zone. */
export interface FreezeWindowRule extends RuleBase {
  kind: 'freeze-window';
  timeZone: string;
  /** One-off: from `start` (inclusive) to `end` (exclusive), local times. */
  once?: { start: LocalDateTime; end: LocalDateTime };
  /** Weekly: from `from` to `to` (exclusive), which may wrap over the week's end (Fri 16:00 – Mon 08:00). */
  weekly?: { from: { day: Weekday; time: LocalTime }; to: { day: Weekday; time: LocalTime } };
}

/** Deploys only inside these hours: on `days`, from `from` (inclusive) to `to` (exclusive), local times. */
export interface DeployWindowRule extends RuleBase {
  kind: 'deploy-window';
  timeZone: string;
  days: Weekday[];
  from: LocalTime;
  to: LocalTime;
}

/** At most `max` canaries running at once: overall, per cloud, or per proxy group. */
export interface ConcurrencyCapRule extends RuleBase {
  kind: 'concurrency-cap';
  max: number;
  per: 'global' | 'cloud' | 'proxy-group';
}

/** A plan must hold an analysis step, and at least `minJudgments` judgments in all. */
export interface RequiredAnalysisRule extends RuleBase {
  kind: 'required-analysis';
  minJudgments: number;
}

/** The canary version must have SUCCEEDED in environment `after` before it deploys here. */
export interface PromotionOrderRule extends RuleBase {
  kind: 'promotion-order';
  after: string;
}

/** A manual gate must be promoted by someone other than the deployment's creator. */
export interface FourEyesRule extends RuleBase {
  kind: 'four-eyes';
}

/** No start while a service this one depends on is rolling back. */
export interface DependencyHealthRule extends RuleBase {
  kind: 'dependency-health';
  /** The services this one depends on. */
  dependsOn: string[];
}

export type PolicyRule = FreezeWindowRule | DeployWindowRule | ConcurrencyCapRule | RequiredAnalysisRule | PromotionOrderRule | FourEyesRule | DependencyHealthRule;

/** What a rule is asked about. */
export type PolicyMoment = 'create' | 'step' | 'promote';

/** A verdict's kind: a configured rule's, or `external` for an external rules service's answer (external.ts). */
export type VerdictKind = PolicyRule['kind'] | 'external';

export interface Verdict {
  rule: string;
  kind: VerdictKind;
  allowed: boolean;
  /** Why it allows or refuses, in a sentence naming the rule's terms. */
  reason: string;
  /** When a refusal that passes with time would next allow (ISO 8601, UTC); null otherwise. */
  nextAllowedAt: string | null;
  /** Present and true on a refusal an admin overrode at create (break glass): it stays refused, and no longer blocks. */
  overridden?: true;
}
