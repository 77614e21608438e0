/**
 * The canary state machine's definition (canary.asl.json, Amazon States Language): one file used
 * by serverless.yml (serverless-step-functions resolves the `Fn::GetAtt` of the task function) and
 * by the local runner, which gets the same definition with the task function's ARN filled in.
 */
import definition from './canary.asl.json' with { type: 'json' };

/** How the definition names the task function; serverless-step-functions turns it into the function's ARN. */
const TASK_FUNCTION_REFERENCE = JSON.stringify({ 'Fn::GetAtt': ['CanaryLambdaFunction', 'Arn'] });

/** The ARN the local runner gives the task function: never called, each Task state is run in-process. */
export const LOCAL_TASK_FUNCTION_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:crossfade-canary';

export type AslDefinition = { StartAt: string; States: Record<string, Record<string, unknown>> } & Record<string, unknown>;

/** The definition with every reference to the task function replaced by `taskFunctionArn`. */
export function canaryDefinition(taskFunctionArn: string = LOCAL_TASK_FUNCTION_ARN): AslDefinition {
  const text = JSON.stringify(definition).split(TASK_FUNCTION_REFERENCE).join(JSON.stringify(taskFunctionArn));
  return JSON.parse(text) as AslDefinition;
}

/** Names of the Wait states: the local runner shortens them through configuration, never by editing the definition. */
export function waitStateNames(d: AslDefinition = canaryDefinition()): string[] {
  return Object.entries(d.States).filter(([, state]) => state['Type'] === 'Wait').map(([name]) => name);
}

/** Names of the Task states (the local runner runs each in-process). */
export function taskStateNames(d: AslDefinition = canaryDefinition()): string[] {
  return Object.entries(d.States).filter(([, state]) => state['Type'] === 'Task').map(([name]) => name);
}
