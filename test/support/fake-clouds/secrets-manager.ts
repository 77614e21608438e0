/**
 * A fake of AWS Secrets Manager on loopback, in the protocol @aws-sdk/client-secrets-manager
 * speaks: awsJson1_1 (`POST /`, `X-Amz-Target: secretsmanager.<Operation>`,
 * `application/x-amz-json-1.1`), errors as a JSON body whose `__type` the SDK turns into the
 * error's name. It answers GetSecretValue for the secrets a test puts (by name or ARN), and
 * ResourceNotFoundException for any other; requests must be SigV4-signed for `secretsmanager`.
 */
import { createServer, type ServerResponse } from 'node:http';
import { listenOnLoopback, record, withBody, type RecordedRequest } from './loopback.js';

export interface FakeSecretsManager {
  /** For SecretsManagerClient's `endpoint` (AWS_ENDPOINT_URL_SECRETS_MANAGER). */
  endpoint: string;
  requests: RecordedRequest[];
  /** The SecretId of every GetSecretValue answered, found or not. */
  reads: string[];
  put(name: string, value: string): void;
  stop(): Promise<void>;
}

export async function startFakeSecretsManager(): Promise<FakeSecretsManager> {
  const requests: RecordedRequest[] = [];
  const reads: string[] = [];
  const secrets = new Map<string, string>();
  const server = createServer((request, response) => {
    const recorded = record(request, requests);
    withBody(request, (text) => {
      const target = String(recorded.headers['x-amz-target'] ?? '');
      if (!String(recorded.headers.authorization ?? '').includes('/secretsmanager/aws4_request')) return fail(response, 403, 'UnrecognizedClientException', 'the request is not signed for secretsmanager');
      if (target !== 'secretsmanager.GetSecretValue') return fail(response, 400, 'InvalidRequestException', `unsupported: ${target}`);
      const secretId = String((JSON.parse(text) as { SecretId?: unknown }).SecretId ?? '');
      reads.push(secretId);
      const value = secrets.get(secretId);
      if (value === undefined) return fail(response, 400, 'ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
      response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      response.end(JSON.stringify({ ARN: arnOf(secretId), Name: secretId, SecretString: value, VersionId: 'v1', VersionStages: ['AWSCURRENT'], CreatedDate: 1767225600 }));
    });
  });
  const { port, stop } = await listenOnLoopback(server);
  return { endpoint: `http://127.0.0.1:${port}`, requests, reads, put: (name, value) => secrets.set(name, value), stop };
}

function arnOf(secretId: string): string {
  return secretId.startsWith('arn:') ? secretId : `arn:aws:secretsmanager:us-east-1:000000000000:secret:${secretId}-AbCdEf`;
}

function fail(response: ServerResponse, status: number, type: string, message: string): void {
  response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
  response.end(JSON.stringify({ __type: type, message }));
}
