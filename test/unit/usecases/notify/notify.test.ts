/**
 * The outbox's two halves as use cases (usecases/notify/, record-change.ts): recording an event
 * enqueues its notifications once, whichever writer lives to do it; the dispatcher retries with
 * backoff, counts and logs every attempt, and gives up loudly after the last.
 */
import { describe, expect, it } from 'vitest';
import { DependencyUnavailableError, PolicyDeniedError } from '../../../../shared/domain/errors.js';
import { createDeployment } from '../../../../shared/usecases/create-deployment.js';
import { createCommand } from '../../../support/create-commands.js';
import type { DeliverySettings } from '../../../../shared/domain/notifications/retry.js';
import type { Notification } from '../../../../shared/domain/notifications/types.js';
import type { NotificationSender } from '../../../../shared/ports/notification-sender.js';
import { dispatchDue, type DispatchDeps } from '../../../../shared/usecases/notify/dispatch.js';
import type { Notifier } from '../../../../shared/usecases/notify/enqueue.js';
import { ensureLastEvent, writeWithEvent } from '../../../../shared/usecases/record-change.js';
import { initialRunState, type Deployment } from '../../../../shared/domain/deployment.js';
import { phaseOfStep } from '../../../../shared/domain/lifecycle.js';
import type { PolicyRule } from '../../../../shared/domain/policy/types.js';
import { runCanaryTask } from '../../../../shared/usecases/canary/run-task.js';
import { makeDeployment } from '../../../support/deployments.js';
import { CapturingLogger, fakeDeps, FixedClock, InMemoryAuditLog, InMemoryDeploymentStore } from '../../../support/fakes.js';
import { InMemoryNotificationOutbox } from '../../../support/outbox-fake.js';

function notifierOn(outbox: InMemoryNotificationOutbox, clock: FixedClock): Notifier & { kicks: number } {
  const notifier = { outbox, clock, routes: [{ destination: 'webhook:ops' }, { destination: 'eventbridge', events: ['promoted' as const] }], kicks: 0, kick: () => notifier.kicks++ };
  return notifier;
}

describe('recording an event enqueues its notifications', () => {
  async function setup() {
    const clock = new FixedClock();
    const deployments = new InMemoryDeploymentStore();
    const audit = new InMemoryAuditLog();
    const outbox = new InMemoryNotificationOutbox();
    const notifier = notifierOn(outbox, clock);
    const d = makeDeployment();
    await deployments.createIfAbsent(d);
    return { deps: { deployments, audit, notifier }, d, outbox, notifier };
  }

  it('once per destination that takes it, kicking the dispatcher; a retried append enqueues nothing more', async () => {
    const { deps, d, outbox, notifier } = await setup();
    const next = await writeWithEvent(deps, d, { ...d, phase: 'SHIFTING' }, { verb: 'converge', actor: 'crossfade-canary', reason: null, details: { phase: 'SHIFTING' } });
    const id = `deployment/${d.id}/v000002-converge`;
    expect((await outbox.itemsOf(id)).map((i) => [i.destination, i.status, i.attempts])).toEqual([['webhook:ops', 'pending', 0]]);
    expect(notifier.kicks).toBe(1);
    await ensureLastEvent(deps, next);
    expect(await outbox.itemsOf(id)).toHaveLength(1);
    expect(notifier.kicks).toBe(1);
  });

  it('an event that is no notification enqueues nothing', async () => {
    const { deps, d, outbox, notifier } = await setup();
    await writeWithEvent(deps, d, { ...d, phase: 'CONVERGING' }, { verb: 'shift', actor: 'crossfade-canary', reason: null, details: {} });
    expect(outbox.items.size).toBe(0);
    expect(notifier.kicks).toBe(0);
  });

  it('a writer that died after its write and before the append: the next reader’s repair enqueues it', async () => {
    const { deps, d, outbox } = await setup();
    // The death: the deployment's write landed, then nothing (the enqueue fails, so neither it nor the append happened).
    const failingOutbox = { ...deps, notifier: { ...deps.notifier, outbox: { ...outbox, enqueue: () => Promise.reject(new Error('died')) } as never } };
    await expect(writeWithEvent(failingOutbox, d, { ...d, phase: 'SUCCEEDED' }, { verb: 'promote', actor: 'crossfade-canary', reason: null, details: {} })).rejects.toThrow('died');
    expect(outbox.items.size).toBe(0);
    const stored = (await deps.deployments.get(d.id))!;
    expect(deps.audit.all()).toEqual([]);
    await ensureLastEvent(deps, stored);
    const id = `deployment/${d.id}/v000002-promote`;
    expect((await outbox.itemsOf(id)).map((i) => i.destination).sort()).toEqual(['eventbridge', 'webhook:ops']);
    expect(deps.audit.all().map((e) => e.eventId)).toEqual(['v000002-promote']);
  });
});

const DELIVERY: DeliverySettings = { maxAttempts: 3, backoffBaseMs: 1000, backoffMaxMs: 60_000, timeoutMs: 2000 };

const notification: Notification = {
  id: 'deployment/dep_a/v000005-promote',
  type: 'promoted',
  at: '2026-01-01T00:00:00.000Z',
  actor: 'crossfade-canary',
  deployment: { id: 'dep_a', service: 'checkout', environment: null, canary: 'v2', baseline: 'v1' },
  phase: 'SUCCEEDED',
  stepIndex: 2,
  weights: null,
  reason: null,
  details: {},
};

/** A sender that fails its first `failures` sends. */
function flakySender(failures: number): NotificationSender & { sent: number } {
  const sender = {
    sent: 0,
    async send() {
      sender.sent++;
      if (sender.sent <= failures) throw new DependencyUnavailableError('webhook "ops"', 'POST http://127.0.0.1:1: answered 503');
    },
  };
  return sender;
}

async function dispatcher(sender: NotificationSender) {
  const clock = new FixedClock(new Date('2026-01-01T00:00:00.000Z'));
  const outbox = new InMemoryNotificationOutbox();
  const logger = new CapturingLogger();
  const deps: DispatchDeps = { outbox, senders: new Map([['webhook:ops', sender]]), delivery: DELIVERY, clock, random: () => 0.5, logger };
  const at = clock.now().toISOString();
  await outbox.enqueue({ notification, destination: 'webhook:ops', status: 'pending', attempts: 0, lastError: null, nextAttemptAt: at, enqueuedAt: at, finishedAt: null });
  const item = async () => (await outbox.itemsOf(notification.id))[0]!;
  return { deps, clock, outbox, logger, item };
}

describe('dispatchDue', () => {
  it('retries a failed attempt after the backoff (not before), counting attempts, and marks the item delivered', async () => {
    const { deps, clock, logger, item } = await dispatcher(flakySender(1));
    expect(await dispatchDue(deps)).toMatchObject({ attempted: 1, delivered: 0 });
    expect(await item()).toMatchObject({ status: 'pending', attempts: 1, lastError: expect.stringContaining('answered 503'), nextAttemptAt: '2026-01-01T00:00:00.750Z' });
    clock.advance(700);
    expect(await dispatchDue(deps)).toEqual({ attempted: 0, delivered: 0, undelivered: 0, nextDueAt: '2026-01-01T00:00:00.750Z' });
    clock.advance(50);
    expect(await dispatchDue(deps)).toMatchObject({ attempted: 1, delivered: 1 });
    expect(await item()).toMatchObject({ status: 'delivered', attempts: 2, lastError: null, finishedAt: '2026-01-01T00:00:00.750Z' });
    expect(logger.lines.map((l) => [l.level, l.message, l.fields['attempt']])).toEqual([
      ['warn', 'notification attempt failed', 1],
      ['info', 'notification delivered', 2],
    ]);
    expect(await dispatchDue(deps)).toEqual({ attempted: 0, delivered: 0, undelivered: 0, nextDueAt: null });
  });

  it('after the last attempt the item is undelivered, logged as an error, and never tried again', async () => {
    const sender = flakySender(99);
    const { deps, clock, logger, item } = await dispatcher(sender);
    for (let pass = 0; pass < 5; pass++) {
      await dispatchDue(deps);
      clock.advance(60_000);
    }
    expect(sender.sent).toBe(3);
    expect(await item()).toMatchObject({ status: 'undelivered', attempts: 3, lastError: expect.stringContaining('answered 503') });
    expect(logger.at('warn')).toHaveLength(2);
    expect(logger.at('error').map((l) => [l.message, l.fields['attempt'], l.fields['notificationId']])).toEqual([['notification UNDELIVERED: giving up', 3, notification.id]]);
  });

  it('two dispatchers reading the same item: one claims and sends, the other skips', async () => {
    const sender = flakySender(0);
    const { deps, item } = await dispatcher(sender);
    const [a, b] = await Promise.all([dispatchDue(deps), dispatchDue(deps)]);
    expect(sender.sent).toBe(1);
    expect(a.delivered + b.delivered).toBe(1);
    expect(await item()).toMatchObject({ status: 'delivered', attempts: 1 });
  });

  it('an item for a destination no longer configured is given up at once', async () => {
    const { deps, item } = await dispatcher(flakySender(0));
    await dispatchDue({ ...deps, senders: new Map() });
    expect(await item()).toMatchObject({ status: 'undelivered', attempts: 1, lastError: 'destination webhook:ops is no longer configured' });
  });
});

describe('a run held by policy', () => {
  it('enqueues a held notification naming the reason and until when', async () => {
    const now = new Date('2026-12-24T10:00:00Z');
    const clock = new FixedClock(now);
    const outbox = new InMemoryNotificationOutbox();
    const freeze: PolicyRule = { name: 'xmas', kind: 'freeze-window', services: ['*'], environments: ['*'], timeZone: 'UTC', once: { start: '2026-12-24T09:00', end: '2026-12-24T10:05' } };
    const deps = { ...fakeDeps({ clock, policyRules: [freeze] }), notifier: notifierOn(outbox, clock) };
    const base = makeDeployment({ steps: [{ kind: 'setWeight', canaryPercent: 10, wave: null }, { kind: 'setWeight', canaryPercent: 100, wave: null }] });
    const d = { ...base, phase: phaseOfStep(base, 1), stepIndex: 1, baseline: { version: 'v1' }, run: { ...initialRunState, stepStartedAt: now.toISOString() } } as Deployment;
    await deps.deployments.createIfAbsent(d);
    await runCanaryTask(deps as never, { action: 'shift', deploymentId: d.id, expect: { kind: 'shift', atVersion: d.version, stepIndex: 1 } });
    const [item] = await outbox.itemsOf(`deployment/${d.id}/v000002-held`);
    expect(item?.notification).toMatchObject({ type: 'held', phase: 'HELD', reason: expect.stringMatching(/^xmas: freeze window "xmas"/), details: { held: { rules: ['xmas'], until: '2026-12-24T10:05:00.000Z' } } });
  });
});

describe('a create refused by policy', () => {
  it('enqueues a policy-denied notification naming the service, the versions and the refusing rule', async () => {
    const clock = new FixedClock(new Date('2026-12-24T10:00:00Z'));
    const outbox = new InMemoryNotificationOutbox();
    const freeze: PolicyRule = { name: 'xmas', kind: 'freeze-window', services: ['*'], environments: ['*'], timeZone: 'UTC', once: { start: '2026-12-24T09:00', end: '2026-12-24T10:05' } };
    const deps = { ...fakeDeps({ clock, policyRules: [freeze] }), notifier: notifierOn(outbox, clock) };
    await expect(createDeployment(deps, createCommand())).rejects.toBeInstanceOf(PolicyDeniedError);
    const items = [...outbox.items.values()];
    expect(items.map((item) => [item.destination, item.notification.type])).toEqual([['webhook:ops', 'policy-denied']]);
    expect(items[0]!.notification).toMatchObject({ deployment: { service: 'checkout', canary: 'v42', baseline: 'v41' }, reason: expect.stringContaining('xmas') });
  });
});
