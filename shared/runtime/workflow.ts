/**
 * The canary runs' capability: the Step Functions state machine, for the functions that start,
 * wake or resume runs (deployments, canary, reconcile; GCP and the local stack through deps.ts).
 * The SDK itself loads on the first call (adapters/workflow/step-functions.ts).
 *
 * Environment:
 *   CROSSFADE_STATE_MACHINE_ARN  the canary state machine (AWS); without it (and without a local
 *                                runner) starting a deployment's run is refused as unavailable
 *   AWS_ENDPOINT_URL_SFN         a local Step Functions (tests)
 */
import type { AwsCredentialsProvider } from '../adapters/clusters/eks.js';
import { StepFunctionsWorkflow } from '../adapters/workflow/step-functions.js';
import { DependencyUnavailableError } from '../domain/errors.js';
import type { Workflow } from '../ports/workflow.js';

export function workflowFromEnv(env: Record<string, string | undefined>, awsCredentials?: AwsCredentialsProvider): Workflow {
  const arn = env['CROSSFADE_STATE_MACHINE_ARN'];
  const endpoint = env['AWS_ENDPOINT_URL_SFN'];
  if (arn) return new StepFunctionsWorkflow(arn, { ...(endpoint ? { endpoint } : {}), ...(awsCredentials ? { credentials: awsCredentials } : {}) });
  const refuse = (): Promise<never> => Promise.reject(new DependencyUnavailableError('canary workflow', 'reach the state machine (CROSSFADE_STATE_MACHINE_ARN is not set)'));
  return { start: refuse, wake: refuse, executionState: refuse };
}
