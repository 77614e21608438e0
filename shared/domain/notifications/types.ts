/**
 * Notifications (docs/notifications.md): what crossfade tells the outside world about a deployment,
 * derived from its audit events. The kinds are a closed set; `type` on the wire is `kind` as is.
 */
import type { Weights } from '../deployment.js';

export const NOTIFICATION_KINDS = ['created', 'step-done', 'held', 'paused', 'judgment', 'promoted', 'rolled-back', 'canceled', 'policy-denied', 'policy-overridden'] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

/** The deployment a notification is about, as far as the event knows it (a denied create has no id). */
export interface NotifiedDeployment {
  id: string | null;
  service: string;
  environment: string | null;
  canary: string | null;
  baseline: string | null;
}

/** The documented JSON shape (format `crossfade`): every destination carries it. */
export interface Notification {
  /** `<audit subject>/<event id>`: unique, and the same for every retry of the same event (de-duplicate on it). */
  id: string;
  type: NotificationKind;
  at: string;
  actor: string;
  deployment: NotifiedDeployment;
  phase: string | null;
  stepIndex: number | null;
  weights: Weights | null;
  reason: string | null;
  details: Record<string, unknown>;
}
