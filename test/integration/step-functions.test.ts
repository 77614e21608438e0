/**
 * The Workflow port on AWS Step Functions (shared/adapters/workflow/step-functions.ts), through the
 * real @aws-sdk/client-sfn against the fake Step Functions API on loopback: one execution per
 * deployment however often it is started, gates woken by token, and failures named.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StepFunctionsWorkflow } from '../../shared/adapters/workflow/step-functions.js';
import { DependencyUnavailableError } from '../../shared/domain/errors.js';
import { FAKE_STATE_MACHINE_ARN, startFakeStepFunctions, type FakeStepFunctions } from '../support/fake-clouds/step-functions.js';
import { freePort } from '../support/ports.js';
import { rejectionOf } from '../support/errors.js';

let fake: FakeStepFunctions;
let workflow: StepFunctionsWorkflow;

beforeAll(async () => {
  fake = await startFakeStepFunctions();
  workflow = new StepFunctionsWorkflow(FAKE_STATE_MACHINE_ARN, { endpoint: fake.endpoint });
});

afterAll(async () => {
  await fake.stop();
});

describe('StepFunctionsWorkflow', () => {
  it('starts one execution named after the deployment, with the deployment id as input', async () => {
    await workflow.start('dep_00000000000000000000000001');

    expect(fake.executions.get('dep_00000000000000000000000001')).toMatchObject({
      stateMachineArn: FAKE_STATE_MACHINE_ARN,
      name: 'dep_00000000000000000000000001',
      input: JSON.stringify({ deploymentId: 'dep_00000000000000000000000001' }),
    });
    // awsJson1_0, signed for `states`, as Step Functions expects.
    expect(fake.requests.at(-1)).toMatchObject({ method: 'POST', path: '/', headers: { 'x-amz-target': 'AWSStepFunctions.StartExecution', 'content-type': 'application/x-amz-json-1.0' } });
  });

  it('a second start of the same deployment is the same execution (idempotent)', async () => {
    await workflow.start('dep_00000000000000000000000002');
    await workflow.start('dep_00000000000000000000000002');

    expect(fake.callsOf('StartExecution').filter((c) => c['name'] === 'dep_00000000000000000000000002')).toHaveLength(2);
    expect([...fake.executions.keys()].filter((name) => name === 'dep_00000000000000000000000002')).toHaveLength(1);
  });

  it('a start once the run has ended (ExecutionAlreadyExists) means the run happened: no error, no second run', async () => {
    await workflow.start('dep_00000000000000000000000003');
    fake.finish('dep_00000000000000000000000003');

    await expect(workflow.start('dep_00000000000000000000000003')).resolves.toBeUndefined();
    expect(fake.executions.get('dep_00000000000000000000000003')).toMatchObject({ status: 'SUCCEEDED' });
  });

  it('wakes a gate by its token once; a token nothing waits on is stale', async () => {
    fake.addWaitingToken('token-1');

    expect(await workflow.wake('token-1')).toBe('woken');
    expect(await workflow.wake('token-1')).toBe('stale');
    expect(fake.callsOf('SendTaskSuccess')).toEqual([
      { taskToken: 'token-1', output: '{}' },
      { taskToken: 'token-1', output: '{}' },
    ]);
  });

  it('starts a named successor of a run (a continuation or a restart) with the same input', async () => {
    await workflow.start('dep_00000000000000000000000005', 'dep_00000000000000000000000005-2');

    expect(fake.executions.get('dep_00000000000000000000000005-2')).toMatchObject({ name: 'dep_00000000000000000000000005-2', input: JSON.stringify({ deploymentId: 'dep_00000000000000000000000005' }) });
  });

  it('tells a running execution from an ended one and from one never started, by its name (DescribeExecution on the derived ARN)', async () => {
    await workflow.start('dep_00000000000000000000000006');
    expect(await workflow.executionState('dep_00000000000000000000000006')).toBe('running');

    fake.finish('dep_00000000000000000000000006', 'FAILED');
    expect(await workflow.executionState('dep_00000000000000000000000006')).toBe('ended');
    expect(await workflow.executionState('dep_00000000000000000000000006-2')).toBe('absent');
    expect(fake.callsOf('DescribeExecution').at(-1)).toEqual({ executionArn: 'arn:aws:states:us-east-1:000000000000:execution:crossfade-canary:dep_00000000000000000000000006-2' });
  });

  it('Step Functions out of reach is DependencyUnavailableError naming the state machine and the verb', async () => {
    const nowhere = new StepFunctionsWorkflow(FAKE_STATE_MACHINE_ARN, { endpoint: `http://127.0.0.1:${await freePort()}`, maxAttempts: 1 });

    const error = await rejectionOf(nowhere.start('dep_00000000000000000000000004'));

    expect(error).toBeInstanceOf(DependencyUnavailableError);
    expect((error as Error).message).toContain(FAKE_STATE_MACHINE_ARN);
    expect((error as Error).message).toContain('start execution dep_00000000000000000000000004');
  });
});
