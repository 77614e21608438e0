/**
 * How a notification is written for each destination (docs/notifications.md): the JSON shape as it
 * is (format `crossfade`, EventBridge's detail, Pub/Sub's data), or a Slack-compatible message
 * (`{text, blocks}`, accepted by Slack incoming webhooks and by Mattermost and Teams' Slack-compatible ones).
 */
import type { Notification, NotificationKind } from './types.js';

export const WEBHOOK_FORMATS = ['crossfade', 'slack'] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

/** EventBridge detail-type per kind: rules match on it (`"detail-type": ["Crossfade Deployment Promoted"]`). */
export const DETAIL_TYPES: Record<NotificationKind, string> = {
  created: 'Crossfade Deployment Created',
  'step-done': 'Crossfade Deployment Step Done',
  held: 'Crossfade Deployment Held',
  paused: 'Crossfade Deployment Paused',
  judgment: 'Crossfade Deployment Judgment',
  promoted: 'Crossfade Deployment Promoted',
  'rolled-back': 'Crossfade Deployment Rolled Back',
  canceled: 'Crossfade Deployment Canceled',
  'policy-denied': 'Crossfade Policy Denied',
  'policy-overridden': 'Crossfade Policy Overridden',
};

const VERBS: Record<NotificationKind, string> = {
  created: 'was created',
  'step-done': 'finished a traffic step',
  held: 'is held by policy',
  paused: 'is paused at a gate',
  judgment: 'was judged',
  promoted: 'was promoted',
  'rolled-back': 'was rolled back',
  canceled: 'was canceled',
  'policy-denied': 'was refused by policy',
  'policy-overridden': 'overrode policy (break glass)',
};

/** The request body a webhook of `format` is sent. */
export function webhookBody(notification: Notification, format: WebhookFormat): string {
  return JSON.stringify(format === 'slack' ? slackMessage(notification) : notification);
}

/** One line a person reads: "checkout 1.4.0 (prod) was promoted" plus what matters for the kind. */
export function summaryOf(n: Notification): string {
  const d = n.deployment;
  const what = `${d.service}${d.canary ? ` ${d.canary}` : ''}${d.environment ? ` (${d.environment})` : ''}`;
  const extra = [n.stepIndex !== null && n.type === 'step-done' ? `step ${n.stepIndex}` : '', n.reason ?? ''].filter(Boolean).join(': ');
  return `${what} ${VERBS[n.type]}${extra ? ` — ${extra}` : ''}`;
}

export function slackMessage(n: Notification): { text: string; blocks: unknown[] } {
  const text = `crossfade: ${summaryOf(n)}`;
  const fields = [
    ['Deployment', n.deployment.id ?? '—'],
    ['Phase', n.phase ?? '—'],
    ['Canary', n.deployment.canary ?? '—'],
    ['Baseline', n.deployment.baseline ?? '—'],
    ['By', n.actor],
    ['At', n.at],
  ].map(([label, value]) => ({ type: 'mrkdwn', text: `*${label}*\n${escapeMrkdwn(String(value))}` }));
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: escapeMrkdwn(text) } },
      { type: 'section', fields },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `event ${escapeMrkdwn(n.id)}` }] },
    ],
  };
}

/** Slack's mrkdwn treats &, < and > as control characters (https://api.slack.com/reference/surfaces/formatting#escaping). */
function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
