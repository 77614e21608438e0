/**
 * What the watch shows, gathered from three reads of the API (docs/watch.md): the status document,
 * the deployment's audit events, and the service as the mesh sees it. Plain data; the renderers
 * (frame.ts, line.ts) turn it into text and never read anything else.
 */
import type { JudgeResult } from '../../shared/domain/judge/results.js';
import type { StatusDocument } from '../../shared/http/status-document.js';
import type { AuditEvent } from '../../shared/ports/audit-log.js';
import type { Verification } from '../../shared/ports/traffic-router.js';

/** Per proxy group, whether its proxies serve the split (`GET /v1/services/{service}`'s `verification`, which says `pending` for what a router calls `propagating`). */
export type GroupVerification = Exclude<Verification, { state: 'propagating' }> | { state: 'unverified'; reason: string };

/** The parts of `GET /v1/services/{service}` the watch reads. */
export interface ServiceState {
  service: string;
  /** Per proxy group, percent per version. */
  weights: Record<string, Record<string, number>>;
  verification: Record<string, GroupVerification>;
}

/** A judge task's audit event: a judgment, or one put off for want of data. */
export type Judgment =
  | { kind: 'judged'; at: string; result: JudgeResult }
  | { kind: 'deferred'; at: string; reason: string };

/** A read that failed and is being retried; shown until it succeeds. */
export interface Trouble {
  message: string;
  /** ISO time of the first failure in a row. */
  since: string;
  attempts: number;
}

export type Source = 'deployment' | 'events' | 'service';

export interface WatchView {
  deployment: StatusDocument;
  /** The latest events, oldest first (a few: the frame shows the last ones). */
  events: readonly AuditEvent[];
  judgment: Judgment | null;
  /** null until read (or when the non-TTY view does not read it). */
  service: ServiceState | null;
  trouble: Partial<Record<Source, Trouble>>;
}

export const ENDED_STATUSES: readonly StatusDocument['status'][] = ['SUCCEEDED', 'TERMINAL', 'CANCELED'];

export function hasEnded(deployment: StatusDocument): boolean {
  return ENDED_STATUSES.includes(deployment.status);
}

/** The judgment an audit event records, if it is a judge task's. */
export function judgmentOf(event: AuditEvent): Judgment | null {
  if (event.action !== 'deployment.judge') return null;
  const { details } = event;
  if (typeof details['deferred'] === 'string') return { kind: 'deferred', at: event.at, reason: details['deferred'] };
  const result = details['judgment'] as JudgeResult | undefined;
  if (!result || typeof result !== 'object' || !Array.isArray(result.metrics)) return null;
  return { kind: 'judged', at: event.at, result };
}

/** The canary's percent in a split or a cloud's weights; 0 when it is not there. */
export function canaryPercent(split: Record<string, number> | undefined, canary: string): number {
  return split?.[canary] ?? 0;
}
