/**
 * External rules services and break glass in the use cases (shared/usecases/policy-check.ts,
 * create-deployment.ts, policy-audit.ts), on fakes of the ExternalRulesService port: every
 * applicable endpoint is asked once per check, all at once, with the documented request; its
 * failure is a refusal when fail-closed and an allowance when fail-open, each saying so; verdicts
 * and inputs land in the audit; an override marks the named refusals and lets the create through,
 * loudly (event, warn log, the deployment's policyOverride).
 */
import { describe, expect, it } from 'vitest';
import { DependencyUnavailableError, PolicyDeniedError, ValidationError } from '../../../shared/domain/errors.js';
import type { ExternalRulesEndpoint, RulesAnswer, RulesRequest } from '../../../shared/domain/policy/external.js';
import type { PolicyRule } from '../../../shared/domain/policy/types.js';
import type { ConfiguredRulesService } from '../../../shared/ports/external-rules.js';
import { createDeployment } from '../../../shared/usecases/create-deployment.js';
import { checkPolicy, requirePromotionAllowed, type PolicySubject } from '../../../shared/usecases/policy-check.js';
import { makeDeployment } from '../../support/deployments.js';
import { rejectionOf } from '../../support/errors.js';
import { createCommand } from '../../support/create-commands.js';
import { fakeDeps, writeAttempts } from '../../support/fakes.js';

const FREEZE: PolicyRule = { name: 'millennium', kind: 'freeze-window', services: ['*'], environments: ['*'], timeZone: 'UTC', once: { start: '2000-01-01T00:00', end: '2100-01-01T00:00' } };
const PAIRS: PolicyRule = { name: 'pairs', kind: 'four-eyes', services: ['*'], environments: ['*'] };

/** A rules service fake: answers (or fails) as told, recording every request and how many were in flight at once. */
function rulesService(name: string, answer: RulesAnswer | Error, endpoint: Partial<ExternalRulesEndpoint> = {}) {
  const asked: RulesRequest[] = [];
  const state = { inFlight: 0, maxInFlight: 0 };
  const configured: ConfiguredRulesService = {
    endpoint: { name, url: `https://${name}.example.com/`, secret: { env: 'X' }, timeoutMs: 2000, failOpen: false, services: ['*'], environments: ['*'], ...endpoint },
    service: {
      async ask(request) {
        asked.push(request);
        state.inFlight++;
        state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
        await new Promise((resolve) => setImmediate(resolve));
        state.inFlight--;
        if (answer instanceof Error) throw answer;
        return answer;
      },
    },
  };
  return { configured, asked, state };
}

const subject: PolicySubject = {
  service: 'checkout',
  environment: 'prod',
  canaryVersion: 'v42',
  baselineVersion: 'v41',
  steps: [{ kind: 'setWeight', canaryPercent: 10, wave: ['aws'] }, { kind: 'pause', durationSeconds: null }, { kind: 'setWeight', canaryPercent: 100, wave: null }],
  createdBy: 'alice',
  targets: [],
};

const command = (overrides: Parameters<typeof createCommand>[0] = {}) => createCommand({ environment: 'prod', ...overrides });

describe('checkPolicy with external rules services', () => {
  it('asks every applicable endpoint once, all at once, with the documented request, and adds one verdict each', async () => {
    const board = rulesService('change-board', { allow: true, reasons: ['change CHG-1 approved'] });
    const risk = rulesService('risk', { allow: false, reasons: ['risk score 91', 'on-call is paged'] });
    const elsewhere = rulesService('staging-only', { allow: false, reasons: ['never'] }, { environments: ['staging'] });
    const deps = fakeDeps({ rulesServices: [board.configured, risk.configured, elsewhere.configured] });

    const decision = await checkPolicy(deps, { ...subject, id: 'dep_1' }, { moment: 'step', principal: 'crossfade', step: 2 });

    expect(decision.allowed).toBe(false);
    expect(decision.verdicts).toEqual([
      { rule: 'change-board', kind: 'external', allowed: true, reason: 'change CHG-1 approved', nextAllowedAt: null },
      { rule: 'risk', kind: 'external', allowed: false, reason: 'risk score 91; on-call is paged', nextAllowedAt: null },
    ]);
    expect(board.asked).toEqual([
      {
        moment: 'step',
        deployment: { id: 'dep_1', service: 'checkout', environment: 'prod', canary: 'v42', baseline: 'v41', createdBy: 'alice', principal: 'crossfade' },
        plan: [{ kind: 'setWeight', canaryPercent: 10, wave: ['aws'] }, { kind: 'pause', durationSeconds: null }, { kind: 'setWeight', canaryPercent: 100, wave: null }],
        step: { index: 2, kind: 'setWeight', canaryPercent: 100 },
      },
    ]);
    expect(risk.asked).toEqual(board.asked);
    expect(elsewhere.asked).toEqual([]);
    // Both were in flight together: asked in parallel, not one after the other.
    expect(board.state.maxInFlight + risk.state.maxInFlight).toBe(2);
    expect(decision.inputs).toEqual({ moment: 'step', principal: 'crossfade', now: deps.clock.now().toISOString(), step: 2, gathered: null });
  });

  it('an endpoint that fails refuses when fail-closed and allows when fail-open, each verdict saying which and why', async () => {
    const failure = new DependencyUnavailableError('rules service "x"', 'POST https://x.example.com (no answer within 2000 ms)');
    const closed = rulesService('closed', failure);
    const open = rulesService('open', failure, { failOpen: true });
    const deps = fakeDeps({ rulesServices: [closed.configured, open.configured] });

    const decision = await checkPolicy(deps, subject, { moment: 'create', principal: 'alice' });

    expect(decision.allowed).toBe(false);
    const [refused, allowed] = decision.verdicts;
    expect(refused).toMatchObject({ rule: 'closed', allowed: false, reason: expect.stringMatching(/no answer within 2000 ms.*refused because it is fail-closed/) });
    expect(allowed).toMatchObject({ rule: 'open', allowed: true, reason: expect.stringMatching(/no answer within 2000 ms.*allowed because it is configured fail-open/) });
    expect(closed.asked[0]!.step).toBeNull();
    expect(closed.asked[0]!.deployment).not.toHaveProperty('id');
  });
});

describe('createDeployment: verdicts in the audit, break glass', () => {
  it('an allowed create keeps its verdicts and the inputs in the deployment.created event', async () => {
    const board = rulesService('change-board', { allow: true, reasons: ['approved'] });
    const deps = fakeDeps({ rulesServices: [board.configured] });

    const { deployment } = await createDeployment(deps, command());

    const [created] = deps.audit.all().filter((e) => e.action === 'deployment.created');
    expect(created!.details['policy']).toEqual({
      verdicts: [{ rule: 'change-board', kind: 'external', allowed: true, reason: 'approved', nextAllowedAt: null }],
      inputs: { moment: 'create', principal: 'checkout-pipeline', now: deployment.createdAt, step: null, gathered: null },
    });
    expect(board.asked[0]!.deployment).toMatchObject({ baseline: 'v41', canary: 'v42', createdBy: 'checkout-pipeline' });
  });

  it('an override lets the named refusals through, marked overridden, loudly; other rules still refuse', async () => {
    const risk = rulesService('risk', { allow: false, reasons: ['risk score 91'] });
    const deps = fakeDeps({ policyRules: [FREEZE], rulesServices: [risk.configured] });

    const partial = await rejectionOf(createDeployment(deps, command({ override: { rules: ['millennium'], reason: 'hotfix for INC-7' } })));
    expect(partial).toBeInstanceOf(PolicyDeniedError);
    expect((partial as PolicyDeniedError).denied.map((v) => v.rule)).toEqual(['risk']);
    expect(deps.deployments.all()).toEqual([]);

    const { deployment } = await createDeployment(deps, command({ idempotencyKey: 'key-2', override: { rules: ['millennium', 'risk'], reason: 'hotfix for INC-7' } }));

    expect(deployment.policyOverride).toEqual({ rules: ['millennium', 'risk'], reason: 'hotfix for INC-7', by: 'checkout-pipeline', at: deployment.createdAt });
    const events = deps.audit.all().filter((e) => e.subject === `deployment/${deployment.id}`);
    expect(events.map((e) => e.action)).toEqual(['deployment.created', 'policy.overridden']);
    expect(events[1]).toMatchObject({ actor: 'checkout-pipeline', reason: 'hotfix for INC-7', details: { rules: ['millennium', 'risk'] } });
    const verdicts = (events[0]!.details['policy'] as { verdicts: unknown[] }).verdicts;
    expect(verdicts).toEqual([expect.objectContaining({ rule: 'millennium', allowed: false, overridden: true }), expect.objectContaining({ rule: 'risk', allowed: false, overridden: true })]);
    expect(deps.logger.lines.filter((line) => line.level === 'warn')).toEqual([expect.objectContaining({ message: 'policy overridden', fields: expect.objectContaining({ rules: ['millennium', 'risk'] }) })]);

    // A replay records no second override event.
    await createDeployment(deps, command({ idempotencyKey: 'key-2', override: { rules: ['millennium', 'risk'], reason: 'hotfix for INC-7' } }));
    expect(deps.audit.all().filter((e) => e.action === 'policy.overridden')).toHaveLength(1);
  });

  it('an override naming an unknown rule is a ValidationError naming override.rules[i], and nothing is written', async () => {
    const deps = fakeDeps({ policyRules: [FREEZE] });

    const error = await rejectionOf(createDeployment(deps, command({ override: { rules: ['millennium', 'milenium'], reason: 'typo' } })));

    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ field: 'override.rules[1]', rule: 'known-rule' });
    expect(writeAttempts(deps)).toBe(0);
  });
});

describe('requirePromotionAllowed', () => {
  it('a four-eyes refusal is one policy.denied event on the deployment, which is left as it is', async () => {
    const deps = fakeDeps({ policyRules: [PAIRS] });
    const d = makeDeployment({ createdBy: 'alice' });
    await deps.deployments.createIfAbsent(d);

    const error = await rejectionOf(requirePromotionAllowed(deps, d, 'alice'));

    expect(error).toBeInstanceOf(PolicyDeniedError);
    expect(await deps.deployments.get(d.id)).toEqual(d);
    expect(deps.audit.all()).toEqual([
      expect.objectContaining({
        subject: `deployment/${d.id}`,
        eventId: expect.stringMatching(/^v000001\.[0-9T:.Z-]+#policy-denied-/),
        action: 'policy.denied',
        actor: 'alice',
        details: expect.objectContaining({ deploymentId: d.id, verdicts: [expect.objectContaining({ rule: 'pairs', allowed: false })], inputs: expect.objectContaining({ moment: 'promote', principal: 'alice', step: 0 }) }),
      }),
    ]);
  });

  it('a rule overridden at create does not refuse the promotion', async () => {
    const deps = fakeDeps({ policyRules: [PAIRS] });
    const d = { ...makeDeployment({ createdBy: 'alice' }), policyOverride: { rules: ['pairs'], reason: 'alone on call', by: 'admin', at: '2025-03-01T12:00:00.000Z' } };

    await requirePromotionAllowed(deps, d, 'alice');

    expect(deps.audit.all()).toEqual([]);
  });
});
