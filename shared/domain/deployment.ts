/**
 * The deployment: one canary of one service, from accepted to promoted or rolled back.
 * Pure data and pure functions only (see docs/architecture.md): time and ids arrive as arguments.
 */
import type { AnalysisTemplate } from './analysis.js';
import type { CloudName } from './cloud.js';
import { planHash } from './plan-hash.js';

/** The finer state. Status (what Spinnaker matches on) is derived from it, never stored apart. */
export const Phase = {
  Pending: 'PENDING',
  Preparing: 'PREPARING',
  Shifting: 'SHIFTING',
  Converging: 'CONVERGING',
  Paused: 'PAUSED',
  /** Held by policy (a freeze window, a deploy window, the rules service): no traffic moves until the rules allow again. */
  Held: 'HELD',
  Analyzing: 'ANALYZING',
  Promoting: 'PROMOTING',
  RollingBack: 'ROLLING_BACK',
  Succeeded: 'SUCCEEDED',
  RolledBack: 'ROLLED_BACK',
  Canceled: 'CANCELED',
  Failed: 'FAILED',
} as const;
export type Phase = (typeof Phase)[keyof typeof Phase];

/** Exactly the vocabulary Spinnaker's webhook stage is configured with (docs/api.md). */
export const DeploymentStatus = {
  NotStarted: 'NOT_STARTED',
  Running: 'RUNNING',
  Succeeded: 'SUCCEEDED',
  Terminal: 'TERMINAL',
  Canceled: 'CANCELED',
} as const;
export type DeploymentStatus = (typeof DeploymentStatus)[keyof typeof DeploymentStatus];

const statusOfPhase: Record<Phase, DeploymentStatus> = {
  PENDING: 'NOT_STARTED',
  PREPARING: 'RUNNING',
  SHIFTING: 'RUNNING',
  CONVERGING: 'RUNNING',
  PAUSED: 'RUNNING',
  HELD: 'RUNNING',
  ANALYZING: 'RUNNING',
  PROMOTING: 'RUNNING',
  ROLLING_BACK: 'RUNNING',
  SUCCEEDED: 'SUCCEEDED',
  ROLLED_BACK: 'TERMINAL',
  FAILED: 'TERMINAL',
  CANCELED: 'CANCELED',
};

export function statusOf(phase: Phase): DeploymentStatus {
  return statusOfPhase[phase];
}

export function isFinished(phase: Phase): boolean {
  const status = statusOf(phase);
  return status !== 'NOT_STARTED' && status !== 'RUNNING';
}

export interface VersionRef {
  version: string;
}

export interface Target {
  cloud: CloudName;
  cluster: string;
}

/** A step of the plan, Argo Rollouts-style, in its compiled (validated, unit-explicit) form. */
export type Step =
  | { kind: 'setWeight'; canaryPercent: number; wave: string[] | null }
  | { kind: 'pause'; durationSeconds: number | null }
  /** The template as resolved when the deployment was created (a named one from crossfade.yaml, or inline metrics). */
  | { kind: 'analysis'; template: AnalysisTemplate; intervalSeconds: number; count: number };

/** Where a Spinnaker-started deployment came from; used for idempotency and for the audit's "why". */
export interface SpinnakerOrigin {
  executionId?: string;
  stageId?: string;
  application?: string;
  pipeline?: string;
}

/** Per cloud, per version, the percentage of traffic (docs/api.md's `weights`). */
export type Weights = Partial<Record<CloudName, Record<string, number>>>;

export interface Deployment {
  id: string;
  service: string;
  /** Where it deploys (`prod`, `staging`), as policy rules match it; absent or null: none named (deployments stored before it existed read so). */
  environment?: string | null;
  /** null until prepare resolves it to the version then serving (docs/api.md: "defaults to the version now serving"). */
  baseline: VersionRef | null;
  canary: VersionRef;
  /** Empty: every cluster where the canary version is registered, resolved at prepare. */
  targets: Target[];
  steps: Step[];
  /** Once promoted, the baseline (at 0% everywhere) is drained and deregistered from the mesh. */
  deregisterBaseline?: boolean;
  /** The compiled plan's fingerprint (plan-hash.ts): two deployments with one hash run the same plan. */
  planHash: string;
  phase: Phase;
  /** Index of the step being worked on; equals steps.length once every step is done. */
  stepIndex: number;
  weights: Weights;
  /** What happened, once finished (final weights, judge's scores, rollback reason). */
  result: Record<string, unknown> | null;
  createdAt: string;
  updatedAt: string;
  /** Token id of the caller that created it. */
  createdBy: string;
  reason: string | null;
  spinnaker: SpinnakerOrigin | null;
  /** Where the state machine is within the plan; changed only through lifecycle.ts. */
  run: RunState;
  /** Optimistic-locking counter: 1 at creation, +1 on every write. */
  version: number;
  /**
   * A task that failed and will be tried again, noted without a new version (a version would
   * make the retried task stale). Only meaningful while `retrying.atVersion` is `version`.
   */
  retrying?: RetryNote;
}

/** "retrying: HAProxy hap1 unreachable, attempt 2 of 7": what progress shows while a task is retried. */
export interface RetryNote {
  action: string;
  atVersion: number;
  /** The attempt about to be made (2 for the first retry). */
  attempt: number;
  /** Attempts the state machine allows for this error; null when unknown. */
  maxAttempts: number | null;
  reason: string;
  at: string;
}

/**
 * The run waits in a hold: a timed pause or analysis interval (`wait`), or a manual gate or an
 * operator's pause (`gate`). One Step Functions task token per hold; promote, resume, pause and
 * cancel send it, so a request takes effect at once, and a timed hold ends on its own timeout.
 */
export interface Hold {
  token: string;
  kind: 'wait' | 'gate';
  /** The step it was opened in: time waited counts only for that step. */
  stepIndex: number;
  since: string;
  /** How long it lasts before it times out (a gate is re-armed then). */
  seconds: number;
  /** The deployment version that stored it: a later version means a request changed the deployment, and the hold must be woken. */
  version: number;
}

/**
 * The run is held by policy before a traffic step or its promotion (docs/policy.md): the rules that
 * refused, why, and when they are asked again. It waits in an ordinary timed hold (`wait`) of
 * `seconds`; when the hold ends the step is tried again, and the rules asked again.
 */
export interface PolicyHold {
  /** The refusing rules' names. */
  rules: string[];
  reason: string;
  since: string;
  /** When the refusing rules said they would next allow (the latest of them); null when one cannot say (a rules service). */
  until: string | null;
  /** How long this hold waits before the rules are asked again. */
  seconds: number;
}

/** How a deployment ends, decided before the last actions (rollback or promotion) run. */
export type Outcome =
  | { kind: 'promote'; reason: string; requestedBy?: string }
  | { kind: 'rollback'; reason: string; finalPhase: 'ROLLED_BACK' | 'CANCELED' | 'FAILED'; requestedBy?: string };

/** One judgment of an analysis step, as the status document's `result` reports it. */
export interface JudgmentSummary {
  stepIndex: number;
  run: number;
  at: string;
  score: number;
  classification: 'Pass' | 'Marginal' | 'Fail';
  /** Why it failed (the first failing metric, an override), or null. */
  reason: string | null;
}

/**
 * The state machine's progress through the plan. Every counter here is advanced by the task that
 * did the work, in the same conditional write, so a retried task sees that it already happened.
 */
export interface RunState {
  /** When the current step began (the judge's window starts here). */
  stepStartedAt: string | null;
  /** Seconds the state machine has waited (Wait states) in the current pause or analysis step. */
  waitedSeconds: number;
  /** Judgments recorded in the current analysis step. */
  analysisRuns: number;
  /** Judgments of the current analysis step put off by one interval to wait for traffic (no-data policy `wait`). */
  analysisDeferrals: number;
  /** The current setWeight step's weights are applied; the proxies' convergence is awaited. */
  shifted: boolean;
  /** An operator paused the deployment: it waits at a gate until resumed. */
  paused: boolean;
  /** The hold the run waits in, if any (closed by the run when it wakes or times out). */
  hold: Hold | null;
  /** Held by policy (phase HELD); absent on deployments stored before policy holds existed. */
  policyHold?: PolicyHold | null;
  /** Set when the end is decided; the run then only promotes or rolls back, and releases. */
  outcome: Outcome | null;
  /** The lock is released and the run is over. */
  released: boolean;
  judgments: JudgmentSummary[];
  /** The service lock's fencing token this run holds (from prepare on): a different one means the run lost the service. */
  fencingToken: number | null;
  /** The Step Functions execution driving the run; null: the first, named after the deployment. */
  execution: string | null;
  /** Proxy groups the last traffic step could not verify (they list no proxies): published or applied, never asked. */
  unverified: string[];
  /**
   * The audit event of the write that made this version, kept with it: the event is appended after
   * the write, and a writer that dies in between leaves it to whoever reads next (appends are
   * idempotent by `eventId`). Large details (a judgment's inputs) are left out here.
   */
  lastChange: RecordedChange | null;
}

export interface RecordedChange {
  eventId: string;
  at: string;
  actor: string;
  action: string;
  reason: string | null;
  details: Record<string, unknown>;
}

export const initialRunState: RunState = {
  stepStartedAt: null,
  waitedSeconds: 0,
  analysisRuns: 0,
  analysisDeferrals: 0,
  shifted: false,
  paused: false,
  hold: null,
  outcome: null,
  released: false,
  judgments: [],
  fencingToken: null,
  execution: null,
  unverified: [],
  lastChange: null,
};

export interface NewDeployment {
  id: string;
  service: string;
  environment?: string | null;
  baseline: VersionRef | null;
  canary: VersionRef;
  targets: Target[];
  steps: Step[];
  deregisterBaseline?: boolean;
  createdBy: string;
  reason: string | null;
  spinnaker: SpinnakerOrigin | null;
}

export function newDeployment(input: NewDeployment, now: Date): Deployment {
  const at = now.toISOString();
  return {
    ...input,
    planHash: planHash(input.steps),
    phase: Phase.Pending,
    stepIndex: 0,
    weights: {},
    result: null,
    createdAt: at,
    updatedAt: at,
    run: { ...initialRunState, judgments: [] },
    version: 1,
  };
}

/** The next version of a deployment: every write goes through here so `version` and `updatedAt` never drift. */
export function revise(current: Deployment, change: Partial<Omit<Deployment, 'id' | 'version' | 'createdAt' | 'retrying'>>, now: Date): Deployment {
  // A new version ends any retry noted against the old one.
  const { retrying: _ended, ...rest } = current;
  return { ...rest, ...change, version: current.version + 1, updatedAt: now.toISOString() };
}

/** The execution driving the run (Step Functions names executions; the first is named after the deployment). */
export function executionOf(d: Pick<Deployment, 'id' | 'run'>): string {
  return d.run.execution ?? d.id;
}

/**
 * The name of the execution that takes over from `execution` (a continuation, or a restart of one
 * that died): `dep_…-2`, `dep_…-3`, … Deterministic, so two takers start the same execution, which
 * Step Functions runs once (a name is unique per state machine).
 */
export function successorExecution(deploymentId: string, execution: string): string {
  const match = execution.startsWith(`${deploymentId}-`) ? /^(\d+)$/.exec(execution.slice(deploymentId.length + 1)) : null;
  return `${deploymentId}-${match ? Number(match[1]) + 1 : 2}`;
}
