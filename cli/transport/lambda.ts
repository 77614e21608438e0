/**
 * `--via lambda:<prefix>`: the API without an HTTP endpoint, by AWS Lambda Invoke of the deployed
 * functions (docs/direct-invocation.md). Each request goes to the function whose route it is
 * (the route table's functionName), named `<prefix>-<function>` as serverless.yml names them
 * (`crossfade-prod` → `crossfade-prod-deployments`). IAM decides who may invoke; the event carries
 * a presigned sts:GetCallerIdentity bound to crossfade's `x-crossfade-id` audience, which the
 * function verifies with STS and maps to scopes (crossfade.yaml iamPrincipals).
 */
import { InvokeCommand, LambdaClient, type LambdaClientConfig } from '@aws-sdk/client-lambda';
import { DependencyUnavailableError } from '../../shared/domain/errors.js';
import { presignCallerIdentity } from '../../shared/adapters/identity/sts-presign.js';
import { CROSSFADE_ID_HEADER } from '../../shared/adapters/identity/sts-caller-identity.js';
import { DEFAULT_STS_AUDIENCE } from '../../shared/domain/principals.js';
import { functionServing } from '../../shared/http/routes.js';
import type { ApiAnswer, ApiRequest, Transport } from './transport.js';

/** Short: the proof is made for one request, and anyone who saw it could replay it this long. */
const PRESIGN_SECONDS = 60;

export interface LambdaTransportOptions {
  /** `crossfade-<stage>`: functions are `<prefix>-deployments`, `<prefix>-services`, ... */
  functionPrefix: string;
  region: string;
  /** The `x-crossfade-id` value the functions expect (crossfade.yaml identity.aws.audience). */
  audience?: string;
  /** Tests: the Lambda API of a fake. Default: the regional endpoint. */
  lambdaEndpoint?: string;
  /** Where the identity is presigned for: a VPC endpoint, or a test's fake STS. Default: the regional STS. */
  stsEndpoint?: string;
  /** Default: the SDK's chain (environment, profile, SSO, instance role). */
  credentials?: LambdaClientConfig['credentials'];
  now?: () => Date;
}

export function createLambdaTransport(options: LambdaTransportOptions): Transport {
  const client = new LambdaClient({
    region: options.region,
    ...(options.lambdaEndpoint ? { endpoint: options.lambdaEndpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    maxAttempts: 3,
  });
  const target = `lambda:${options.functionPrefix}`;

  async function identityUrl(): Promise<string> {
    const credentials = await client.config.credentials();
    return presignCallerIdentity({
      region: options.region,
      credentials,
      headerName: CROSSFADE_ID_HEADER,
      headerValue: options.audience ?? DEFAULT_STS_AUDIENCE,
      signingDate: options.now?.() ?? new Date(),
      expiresInSeconds: PRESIGN_SECONDS,
      ...(options.stsEndpoint ? { endpoint: options.stsEndpoint } : {}),
    });
  }

  return {
    target,
    async send(request: ApiRequest): Promise<ApiAnswer> {
      const fn = functionServing(request.method, request.path);
      if (fn === undefined) return { statusCode: 404, headers: {}, body: { error: { code: 'NOT_FOUND', message: `no route for ${request.method} ${request.path}` } } };
      const functionName = `${options.functionPrefix}-${fn}`;
      let payload: Uint8Array | undefined;
      let functionError: string | undefined;
      try {
        const event = { crossfade: { method: request.method, path: request.path, query: request.query, headers: request.headers, body: request.body }, identity: { sts: { url: await identityUrl() } } };
        const out = await client.send(new InvokeCommand({ FunctionName: functionName, Payload: Buffer.from(JSON.stringify(event), 'utf8') }));
        payload = out.Payload;
        functionError = out.FunctionError;
      } catch (error) {
        return refusalOf(error, functionName, target);
      }
      const document = parse(payload);
      // The function threw instead of answering (a crash, a timeout): the API's 500, naming it.
      if (functionError !== undefined || !isAnswer(document)) {
        const detail = (document as { errorType?: string; errorMessage?: string } | undefined) ?? {};
        return { statusCode: 502, headers: {}, body: { error: { code: 'INTERNAL', message: `${functionName} failed: ${detail.errorType ?? functionError ?? 'no answer'}${detail.errorMessage ? `: ${detail.errorMessage}` : ''}` } } };
      }
      return { statusCode: document.statusCode, headers: lowerCased(document.headers ?? {}), body: document.body ?? undefined };
    },
  };
}

/** IAM refusing the invoke is an answer (403); no such function or no network is "nothing answered". */
function refusalOf(error: unknown, functionName: string, target: string): ApiAnswer {
  const name = error instanceof Error ? error.name : '';
  const message = error instanceof Error ? error.message : String(error);
  if (name === 'AccessDeniedException' || (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 403) {
    return { statusCode: 403, headers: {}, body: { error: { code: 'FORBIDDEN', message: `IAM does not let these credentials invoke ${functionName}: ${message}` } } };
  }
  throw new DependencyUnavailableError(name === 'ResourceNotFoundException' ? `${target} (no function ${functionName}: is the prefix right?)` : target, `invoke ${functionName}`, { cause: error });
}

interface InvokeAnswer {
  statusCode: number;
  headers?: Record<string, string>;
  body?: unknown;
}

function isAnswer(value: unknown): value is InvokeAnswer {
  return typeof value === 'object' && value !== null && typeof (value as { statusCode?: unknown }).statusCode === 'number';
}

function parse(payload: Uint8Array | undefined): unknown {
  try {
    return payload === undefined ? undefined : (JSON.parse(Buffer.from(payload).toString('utf8')) as unknown);
  } catch {
    return undefined;
  }
}

function lowerCased(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), String(value)]));
}
