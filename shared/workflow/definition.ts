/**
 * The canary state machine's definition (canary.asl.json, Amazon States Language): one file used
 * by serverless.yml (serverless-step-functions resolves the `Fn::GetAtt` of the task function and
 * the `Fn::Sub` naming the state machine itself, which continues a run as a new execution) and by
 * the local runner, which gets the same definition with both filled in.
 */
import definition from './canary.asl.json' with { type: 'json' };

/** How the definition names the task function; serverless-step-functions turns it into the function's ARN. */
const TASK_FUNCTION_REFERENCE = JSON.stringify({ 'Fn::GetAtt': ['CanaryLambdaFunction', 'Arn'] });

/** How the definition names its own state machine (its name is fixed in serverless.yml, so no Ref: a Ref would be circular). */
const OWN_ARN_REFERENCE = JSON.stringify({ 'Fn::Sub': 'arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:${self:service}-${sls:stage}-canary' });

/** The ARN the local runner gives the task function: never called, each Task state is run in-process. */
export const LOCAL_TASK_FUNCTION_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:crossfade-canary';
/** The ARN the local runner gives the state machine itself: never called, StartSuccessor is run in-process. */
export const LOCAL_STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:crossfade-local-canary';

export type AslDefinition = { StartAt: string; States: Record<string, Record<string, unknown>> } & Record<string, unknown>;

/** The definition with every reference to the task function replaced by `taskFunctionArn`, and to itself by `stateMachineArn`. */
export function canaryDefinition(taskFunctionArn: string = LOCAL_TASK_FUNCTION_ARN, stateMachineArn: string = LOCAL_STATE_MACHINE_ARN): AslDefinition {
  const text = JSON.stringify(definition).split(TASK_FUNCTION_REFERENCE).join(JSON.stringify(taskFunctionArn)).split(OWN_ARN_REFERENCE).join(JSON.stringify(stateMachineArn));
  return JSON.parse(text) as AslDefinition;
}

/** Names of the Task states (the local runner runs each in-process). */
export function taskStateNames(d: AslDefinition = canaryDefinition()): string[] {
  return Object.entries(d.States).filter(([, state]) => state['Type'] === 'Task').map(([name]) => name);
}
