/**
 * A fake of the Step Functions API on loopback, in the protocol @aws-sdk/client-sfn 3.1164 speaks:
 * awsJson1_0 (`POST /`, `X-Amz-Target: AWSStepFunctions.<Operation>`,
 * `application/x-amz-json-1.0`, timestamps as epoch seconds), errors as a JSON body whose
 * `__type` the SDK turns into the error's name. Requests must be SigV4-signed for service `states`.
 *
 * It answers the operations crossfade calls (shared/adapters/workflow/step-functions.ts):
 * StartExecution, idempotent as Step Functions is (the same name and input answer the running
 * execution; the same name with another input, or once that execution has ended, is
 * ExecutionAlreadyExists), DescribeExecution (by ARN: its status, or ExecutionDoesNotExist), and
 * SendTaskSuccess (a token the test said is waiting is consumed; any other is TaskDoesNotExist).
 * Nothing runs: an execution is only recorded.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import { listenOnLoopback, record, withBody, type RecordedRequest } from './loopback.js';

/** The state machine the tests configure (CROSSFADE_STATE_MACHINE_ARN). */
export const FAKE_STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:crossfade-canary';

export interface FakeExecution {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  input: string;
  /** Epoch seconds, as the API reports it. */
  startDate: number;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED';
}

/** One call the fake answered, parsed: the operation (from X-Amz-Target) and its JSON body. */
export interface StepFunctionsCall {
  operation: string;
  body: Record<string, unknown>;
}

export interface FakeStepFunctions {
  /** For SFNClient's `endpoint` (AWS_ENDPOINT_URL_SFN). */
  endpoint: string;
  requests: RecordedRequest[];
  calls: StepFunctionsCall[];
  /** Every execution started, by name. */
  executions: ReadonlyMap<string, FakeExecution>;
  /** SendTaskSuccess with `token` succeeds once. */
  addWaitingToken(token: string): void;
  /** The execution `name` ends (a deployment whose run is over), or fails. */
  finish(name: string, status?: 'SUCCEEDED' | 'FAILED'): void;
  /** Calls of one operation, in order. */
  callsOf(operation: 'StartExecution' | 'SendTaskSuccess' | 'DescribeExecution'): Record<string, unknown>[];
  stop(): Promise<void>;
}

const TARGET_PREFIX = 'AWSStepFunctions.';
const SIGV4 = /^AWS4-HMAC-SHA256 Credential=[^/]+\/\d{8}\/[a-z0-9-]+\/states\/aws4_request, SignedHeaders=[^,]*host[^,]*, Signature=[0-9a-f]{64}$/;

export async function startFakeStepFunctions(): Promise<FakeStepFunctions> {
  const requests: RecordedRequest[] = [];
  const calls: StepFunctionsCall[] = [];
  const executions = new Map<string, FakeExecution>();
  const waiting = new Set<string>();

  const server = createServer((request, response) => {
    record(request, requests);
    withBody(request, (text) => {
      if (!SIGV4.test(String(request.headers.authorization ?? ''))) return fail(response, 400, 'UnrecognizedClientException', 'The security token included in the request is invalid.');
      const target = String(request.headers['x-amz-target'] ?? '');
      if (request.method !== 'POST' || !target.startsWith(TARGET_PREFIX)) return fail(response, 400, 'UnknownOperationException', `no operation for ${request.method} ${target}`);
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(text || '{}') as Record<string, unknown>;
      } catch {
        return fail(response, 400, 'SerializationException', 'body is not JSON');
      }
      const operation = target.slice(TARGET_PREFIX.length);
      calls.push({ operation, body });
      switch (operation) {
        case 'StartExecution':
          return startExecution(body, response);
        case 'SendTaskSuccess':
          return sendTaskSuccess(body, response);
        case 'DescribeExecution':
          return describeExecution(body, response);
        default:
          return fail(response, 400, 'UnknownOperationException', `the fake does not implement ${operation}`);
      }
    });
  });

  function startExecution(body: Record<string, unknown>, response: ServerResponse): void {
    const { stateMachineArn, name, input } = body;
    if (typeof stateMachineArn !== 'string' || !stateMachineArn.startsWith('arn:aws:states:')) return fail(response, 400, 'InvalidArn', `Invalid Arn: '${String(stateMachineArn)}'`);
    if (typeof name !== 'string' || !/^[\w-]{1,80}$/.test(name)) return fail(response, 400, 'InvalidName', `Invalid Name: '${String(name)}'`);
    const given = typeof input === 'string' ? input : '{}';
    const existing = executions.get(name);
    if (existing) {
      // Step Functions: the same name and input answer the running execution (idempotent).
      if (existing.input !== given || existing.status !== 'RUNNING') return fail(response, 400, 'ExecutionAlreadyExists', `Execution Already Exists: '${existing.executionArn}'`);
      return send(response, 200, { executionArn: existing.executionArn, startDate: existing.startDate });
    }
    const execution: FakeExecution = {
      executionArn: `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`,
      stateMachineArn,
      name,
      input: given,
      startDate: Date.now() / 1000,
      status: 'RUNNING',
    };
    executions.set(name, execution);
    send(response, 200, { executionArn: execution.executionArn, startDate: execution.startDate });
  }

  function describeExecution(body: Record<string, unknown>, response: ServerResponse): void {
    const arn = body['executionArn'];
    if (typeof arn !== 'string' || !arn.startsWith('arn:aws:states:') || !arn.includes(':execution:')) return fail(response, 400, 'InvalidArn', `Invalid Arn: '${String(arn)}'`);
    const execution = [...executions.values()].find((e) => e.executionArn === arn);
    if (!execution) return fail(response, 400, 'ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
    send(response, 200, { executionArn: execution.executionArn, stateMachineArn: execution.stateMachineArn, name: execution.name, status: execution.status, startDate: execution.startDate, input: execution.input });
  }

  function sendTaskSuccess(body: Record<string, unknown>, response: ServerResponse): void {
    const token = body['taskToken'];
    if (typeof token !== 'string' || !waiting.delete(token)) return fail(response, 400, 'TaskDoesNotExist', 'Task does not exist anymore');
    send(response, 200, {});
  }

  const { port, stop } = await listenOnLoopback(server);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    calls,
    executions,
    addWaitingToken: (token) => void waiting.add(token),
    finish: (name, status = 'SUCCEEDED') => {
      const execution = executions.get(name);
      if (execution) execution.status = status;
    },
    callsOf: (operation) => calls.filter((c) => c.operation === operation).map((c) => c.body),
    stop,
  };
}

function send(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'content-length': Buffer.byteLength(text), 'x-amzn-requestid': randomUUID() });
  response.end(text);
}

function fail(response: ServerResponse, status: number, type: string, message: string): void {
  send(response, status, { __type: type, message });
}
