/**
 * Which audit events are notifications and what they say (domain/notifications/of-event.ts), the
 * formats (formats.ts), the routing to destinations (routing.ts), the backoff (retry.ts), and the
 * configuration's checks (schema.ts, config.ts).
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../../shared/domain/config.js';
import type { Deployment } from '../../../../shared/domain/deployment.js';
import { DETAIL_TYPES, slackMessage, summaryOf, webhookBody } from '../../../../shared/domain/notifications/formats.js';
import { notificationKindOf, notificationOf, type RecordedEvent } from '../../../../shared/domain/notifications/of-event.js';
import { DEFAULT_DELIVERY, retryDelayMs } from '../../../../shared/domain/notifications/retry.js';
import { destinationsFor, routesOf } from '../../../../shared/domain/notifications/routing.js';
import { NOTIFICATION_KINDS, type Notification } from '../../../../shared/domain/notifications/types.js';
import { makeDeployment } from '../../../support/deployments.js';

function event(action: string, details: Record<string, unknown> = {}, subject = 'deployment/dep_a'): RecordedEvent {
  return { subject, eventId: `v000007-${action.split('.').pop()}`, at: '2026-03-29T01:30:00.000Z', actor: 'crossfade-canary', action, reason: null, details };
}

const at = (phase: Deployment['phase']): Deployment => ({ ...makeDeployment({ environment: 'prod' }), phase });

describe('notificationKindOf: which events are notifications', () => {
  it.each([
    ['deployment.created', {}, 'PENDING', 'created'],
    ['deployment.converge', {}, 'SHIFTING', 'step-done'],
    ['deployment.held', { reason: 'freeze', until: '2026-12-27T00:00:00Z' }, 'SHIFTING', 'held'],
    ['deployment.hold', { hold: { kind: 'gate' } }, 'PAUSED', 'paused'],
    ['deployment.judge', {}, 'SHIFTING', 'judgment'],
    ['deployment.promote', {}, 'SUCCEEDED', 'promoted'],
    ['deployment.rollback', {}, 'ROLLED_BACK', 'rolled-back'],
    ['deployment.give-up', {}, 'FAILED', 'rolled-back'],
    ['deployment.recover', {}, 'ROLLED_BACK', 'rolled-back'],
    ['deployment.rollback', {}, 'CANCELED', 'canceled'],
    ['deployment.cancel', {}, 'CANCELED', 'canceled'],
    ['policy.denied', {}, null, 'policy-denied'],
    ['policy.overridden', {}, null, 'policy-overridden'],
  ] as const)('%s (phase %s after it) is %s', (action, details, phase, kind) => {
    expect(notificationKindOf({ action, details }, phase)).toBe(kind);
  });

  it.each([
    ['deployment.prepare', {}, 'SHIFTING'],
    ['deployment.shift', {}, 'CONVERGING'],
    ['deployment.hold', { hold: { kind: 'wait' } }, 'SHIFTING'], // a timed pause is not a gate
    ['deployment.unhold', {}, 'SHIFTING'],
    ['deployment.release', {}, 'SUCCEEDED'], // the outcome was told by the write that reached it
    ['deployment.promote', {}, 'PROMOTING'], // an operator's promote at a gate: the run goes on
    ['deployment.cancel', {}, 'ROLLING_BACK'], // decided; told when the rollback ends CANCELED
    ['deployment.resume', {}, 'SHIFTING'],
    ['service.registered', {}, null],
  ] as const)('%s (phase %s) is none', (action, details, phase) => {
    expect(notificationKindOf({ action, details }, phase)).toBeUndefined();
  });
});

describe('notificationOf: the documented shape', () => {
  it('takes the deployment as the event’s write stored it', () => {
    const d: Deployment = { ...at('SUCCEEDED'), stepIndex: 3, weights: { aws: { 'v1.4.0': 0, 'v1.5.0': 100 } } };
    const n = notificationOf({ ...event('deployment.promote', { phase: 'SUCCEEDED' }, `deployment/${d.id}`), reason: 'all steps passed' }, d)!;
    expect(n).toEqual({
      id: `deployment/${d.id}/v000007-promote`,
      type: 'promoted',
      at: '2026-03-29T01:30:00.000Z',
      actor: 'crossfade-canary',
      deployment: { id: d.id, service: 'checkout', environment: 'prod', canary: 'v1.5.0', baseline: 'v1.4.0' },
      phase: 'SUCCEEDED',
      stepIndex: 3,
      weights: { aws: { 'v1.4.0': 0, 'v1.5.0': 100 } },
      reason: 'all steps passed',
      details: { phase: 'SUCCEEDED' },
    });
  });

  it('a judgment carries the deployment’s last judgment summary', () => {
    const summary = { stepIndex: 1, run: 1, at: '2026-03-29T01:29:00.000Z', score: 97, classification: 'Pass', reason: null };
    const d = { ...at('SHIFTING'), run: { ...at('SHIFTING').run, judgments: [summary] } } as Deployment;
    expect(notificationOf(event('deployment.judge'), d)!.details['judgment']).toEqual(summary);
  });

  it('without a deployment (a refused create wrote none), reads it from the details', () => {
    const n = notificationOf(event('policy.denied', { service: 'checkout', environment: 'prod', canary: { version: 'v2' }, baseline: 'v1', rules: ['xmas-freeze'] }, 'service/checkout'), undefined)!;
    expect(n.deployment).toEqual({ id: null, service: 'checkout', environment: 'prod', canary: 'v2', baseline: 'v1' });
    expect(n).toMatchObject({ id: 'service/checkout/v000007-denied', type: 'policy-denied', phase: null, stepIndex: null, weights: null });
  });

  it('is the same for the same event: a repair enqueues the same id', () => {
    const d = at('SHIFTING');
    expect(notificationOf(event('deployment.converge'), d)).toEqual(notificationOf(event('deployment.converge'), d));
  });
});

const sample: Notification = {
  id: 'deployment/dep_a/v000009-rollback',
  type: 'rolled-back',
  at: '2026-03-29T01:30:00.000Z',
  actor: 'crossfade-canary',
  deployment: { id: 'dep_a', service: 'checkout', environment: 'prod', canary: 'v2', baseline: 'v1' },
  phase: 'ROLLED_BACK',
  stepIndex: 1,
  weights: { aws: { v1: 100, v2: 0 } },
  reason: 'analysis 2/3 failed: error-ratio <high>',
  details: {},
};

describe('formats', () => {
  it('crossfade: the notification as JSON', () => {
    expect(JSON.parse(webhookBody(sample, 'crossfade'))).toEqual(sample);
  });

  it('slack: text and blocks, mrkdwn control characters escaped', () => {
    const message = slackMessage(sample);
    expect(message.text).toBe('crossfade: checkout v2 (prod) was rolled back — analysis 2/3 failed: error-ratio <high>');
    expect(JSON.stringify(message.blocks)).toContain('error-ratio &lt;high&gt;');
    expect(JSON.stringify(message.blocks)).not.toContain('<high>');
    expect(JSON.parse(webhookBody(sample, 'slack'))).toEqual(message);
  });

  it('a step done names its step', () => {
    expect(summaryOf({ ...sample, type: 'step-done', reason: null, stepIndex: 2 })).toBe('checkout v2 (prod) finished a traffic step — step 2');
  });

  it('every kind has an EventBridge detail-type, all distinct', () => {
    expect(Object.keys(DETAIL_TYPES).sort()).toEqual([...NOTIFICATION_KINDS].sort());
    expect(new Set(Object.values(DETAIL_TYPES)).size).toBe(NOTIFICATION_KINDS.length);
  });
});

describe('routing', () => {
  const routes = routesOf({
    webhooks: [
      { name: 'all', url: 'https://a.example.com', secret: { env: 'A' }, format: 'crossfade' },
      { name: 'outcomes', url: 'https://b.example.com', secret: { env: 'B' }, format: 'slack', events: ['promoted', 'rolled-back'], services: ['check*'] },
    ],
    eventBridge: { busName: 'deploys', region: 'us-east-1', source: 'crossfade' },
    delivery: DEFAULT_DELIVERY,
  });

  it('webhooks filter by kind and service glob; EventBridge takes everything', () => {
    expect(destinationsFor(sample, routes)).toEqual(['webhook:all', 'webhook:outcomes', 'eventbridge']);
    expect(destinationsFor({ ...sample, type: 'created' }, routes)).toEqual(['webhook:all', 'eventbridge']);
    expect(destinationsFor({ ...sample, deployment: { ...sample.deployment, service: 'payments' } }, routes)).toEqual(['webhook:all', 'eventbridge']);
  });
});

describe('retryDelayMs: exponential with jitter, capped', () => {
  const settings = { ...DEFAULT_DELIVERY, backoffBaseMs: 1000, backoffMaxMs: 10_000 };
  it.each([
    [1, 0, 500],
    [1, 0.999, 1000],
    [2, 0, 1000],
    [3, 0.5, 3000],
    [5, 1, 10_000],
    [9, 0, 5000],
  ])('after attempt %i with draw %f: %i ms', (attempts, random, expected) => {
    expect(retryDelayMs(attempts, settings, random)).toBe(expected);
  });
});

describe('configuration', () => {
  const webhook = { name: 'ops', url: 'https://hooks.example.com/crossfade', secret: { env: 'OPS_SECRET' } };

  it('defaults: no destinations, 6 attempts', () => {
    expect(parseConfig({}, 'x').notifications).toEqual({ webhooks: [], delivery: { maxAttempts: 6, backoffBaseMs: 1000, backoffMaxMs: 300_000, timeoutMs: 5000 } });
    expect(parseConfig({ notifications: { webhooks: [webhook] } }, 'x').notifications.webhooks[0]).toEqual({ ...webhook, format: 'crossfade' });
  });

  it.each([
    [{ webhooks: [{ ...webhook, url: 'http://169.254.169.254/latest' }] }, 'notifications.webhooks[0].url'],
    [{ webhooks: [{ ...webhook, url: 'http://[fe80::1]/x' }] }, 'notifications.webhooks[0].url'],
    [{ webhooks: [{ ...webhook, url: 'ftp://x.example.com/' }] }, 'notifications.webhooks[0].url'],
    [{ webhooks: [webhook, { ...webhook, url: 'http://metadata.google.internal/' }] }, 'notifications.webhooks[1].name'],
    [{ webhooks: [{ ...webhook, format: 'teams' }] }, 'notifications.webhooks[0].format'],
    [{ webhooks: [{ ...webhook, events: ['shipped'] }] }, 'notifications.webhooks[0].events[0]'],
    [{ webhooks: [{ ...webhook, secret: { env: 'not a var' } }] }, 'notifications.webhooks[0].secret.env'],
    [{ webhooks: [{ ...webhook, secret: 'inline-secret' }] }, 'notifications.webhooks[0].secret'],
    [{ eventBridge: { busName: 'b', region: 'us-east-1', endpoint: 'http://169.254.169.254/' } }, 'notifications.eventBridge.endpoint'],
    [{ pubsub: { project: 'my-project', topic: 'deploys', apiEndpoint: 'http://169.254.169.254:8085' } }, 'notifications.pubsub.apiEndpoint'],
    [{ delivery: { maxAttempts: 0 } }, 'notifications.delivery.maxAttempts'],
  ])('refuses %j naming %s', (notifications, key) => {
    expect(() => parseConfig({ notifications }, 'crossfade.yaml')).toThrow(expect.objectContaining({ name: 'ConfigError', key }));
  });

  it('a metadata host is allowed only when outbound.allowedHosts names it exactly', () => {
    const notifications = { webhooks: [{ ...webhook, url: 'http://169.254.169.254/hook' }] };
    expect(() => parseConfig({ notifications, outbound: { allowedHosts: ['*'] } }, 'x')).toThrow(/notifications\.webhooks\[0\]\.url: host 169\.254\.169\.254 is a/);
    expect(parseConfig({ notifications, outbound: { allowedHosts: ['169.254.169.254'] } }, 'x').notifications.webhooks).toHaveLength(1);
  });
});
