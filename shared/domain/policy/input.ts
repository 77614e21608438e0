/**
 * What policy evaluation looks at (docs/policy.md): everything a rule needs, the time included, so
 * that evaluation stays pure. The caller (create, the run's step task, promote) gathers it.
 */
import type { CloudName } from '../cloud.js';
import type { Step } from '../deployment.js';
import type { PolicyMoment } from './types.js';

/** The deployment asked about. */
export interface PolicyDeployment {
  service: string;
  /** null: the deployment names no environment (it then matches only rules scoped to `*`). */
  environment: string | null;
  canaryVersion: string;
  /** The compiled plan (plan.ts `compileSteps`). */
  steps: readonly Step[];
  /** The principal that created it. */
  createdBy: string;
  clouds: readonly CloudName[];
  proxyGroups: readonly string[];
}

export interface PolicyInput {
  deployment: PolicyDeployment;
  moment: PolicyMoment;
  /** Who asks: the creator at create, the promoter at promote (four eyes compares them). */
  principal: string;
  now: Date;
  /**
   * The deployments holding the slots of each cap scope the deployment would join, by scope key
   * (concurrency-cap.ts `capScopes`); a scope not listed has none. The deployment asked about is
   * never among them.
   */
  capHolders: Readonly<Record<string, readonly string[]>>;
  /** The environments in which this service's canary version has SUCCEEDED. */
  succeededIn: readonly string[];
  /** The services now rolling back. */
  rollingBack: readonly string[];
  /**
   * The services this one declared it calls (PUT /v1/services/{s}/dependencies), read when a
   * dependency-health rule applies; absent when it declared none. Declared, they are what
   * dependency health checks, and a rule's `dependsOn` is the default for a service without.
   */
  declaredDependencies?: readonly string[];
}
