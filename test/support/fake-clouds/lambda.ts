/**
 * A fake of the AWS Lambda Invoke API on loopback (restJson1, as @aws-sdk/client-lambda speaks it):
 * `POST /2015-03-31/functions/{name}/invocations` with the event as the body runs the handler the
 * test registered under that name, in this process, and answers its result as the payload. As
 * Lambda does: a handler that throws answers 200 with `X-Amz-Function-Error: Unhandled` and
 * `{errorType, errorMessage}`; an unknown function is 404 ResourceNotFoundException; a caller the
 * test denied is 403 AccessDeniedException. Requests must be SigV4-signed for service `lambda`.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import type { Context } from 'aws-lambda';
import { listenOnLoopback, record, type RecordedRequest } from './loopback.js';

export type InvokedHandler = (event: never, context: Context) => Promise<unknown>;

export interface FakeLambda {
  /** For LambdaClient's `endpoint` (AWS_ENDPOINT_URL_LAMBDA). */
  endpoint: string;
  requests: RecordedRequest[];
  /** Every invocation: the function and the event it was given. */
  invocations: { functionName: string; event: unknown }[];
  addFunction(name: string, handler: InvokedHandler): void;
  /** Invokes by this access key are refused from now on, as IAM refuses lambda:InvokeFunction. */
  denyAccessKey(accessKeyId: string): void;
  stop(): Promise<void>;
}

const SIGV4 = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/\d{8}\/[a-z0-9-]+\/lambda\/aws4_request, SignedHeaders=[^,]*host[^,]*, Signature=[0-9a-f]{64}$/;
const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;

export async function startFakeLambda(): Promise<FakeLambda> {
  const functions = new Map<string, InvokedHandler>();
  const denied = new Set<string>();
  const requests: RecordedRequest[] = [];
  const invocations: FakeLambda['invocations'] = [];

  const server = createServer((request, response) => {
    const seen = record(request, requests);
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const signature = SIGV4.exec(String(request.headers.authorization ?? ''));
      if (!signature) return fail(response, 403, 'UnrecognizedClientException', 'The security token included in the request is invalid.');
      const match = INVOKE_PATH.exec(seen.path);
      if (request.method !== 'POST' || !match) return fail(response, 404, 'UnknownOperationException', `no route ${request.method} ${seen.path}`);
      const functionName = decodeURIComponent(match[1]!);
      if (denied.has(signature[1]!)) return fail(response, 403, 'AccessDeniedException', `User is not authorized to perform: lambda:InvokeFunction on resource: ${functionName}`);
      const handler = functions.get(functionName);
      if (!handler) return fail(response, 404, 'ResourceNotFoundException', `Function not found: arn:aws:lambda:us-east-1:000000000000:function:${functionName}`);
      let event: unknown;
      try {
        event = JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null');
      } catch {
        return fail(response, 400, 'InvalidRequestContentException', 'Could not parse request body into json');
      }
      invocations.push({ functionName, event });
      void invoke(handler, functionName, event).then(({ payload, error }) => {
        const text = JSON.stringify(payload ?? null);
        response.writeHead(200, { 'content-type': 'application/json', 'x-amz-executed-version': '$LATEST', ...(error ? { 'x-amz-function-error': 'Unhandled' } : {}) });
        response.end(text);
      });
    });
  });
  const { port, stop } = await listenOnLoopback(server);

  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    invocations,
    addFunction: (name, handler) => void functions.set(name, handler),
    denyAccessKey: (accessKeyId) => void denied.add(accessKeyId),
    stop,
  };
}

async function invoke(handler: InvokedHandler, functionName: string, event: unknown): Promise<{ payload: unknown; error: boolean }> {
  const context = { awsRequestId: randomUUID(), functionName, functionVersion: '$LATEST', getRemainingTimeInMillis: () => 10_000 } as unknown as Context;
  try {
    return { payload: await handler(event as never, context), error: false };
  } catch (error) {
    return { payload: { errorType: error instanceof Error ? error.name : 'Error', errorMessage: error instanceof Error ? error.message : String(error) }, error: true };
  }
}

function fail(response: ServerResponse, status: number, type: string, message: string): void {
  const text = JSON.stringify({ Type: 'User', message });
  response.writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': type, 'x-amzn-requestid': randomUUID() });
  response.end(text);
}
