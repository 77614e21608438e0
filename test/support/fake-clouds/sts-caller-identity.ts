/**
 * A fake of STS on loopback that answers GetCallerIdentity (sts.ts fakes AssumeRoleWithWebIdentity) for presigned URLs (query-string SigV4)
 * only when their signature verifies: it recomputes it with @smithy/signature-v4 from the secret
 * key of the access key named in X-Amz-Credential and the headers X-Amz-SignedHeaders names, as
 * STS does, so a changed parameter, a missing or altered signed header, or another secret is
 * refused (403 SignatureDoesNotMatch); an expired URL is 403 ExpiredToken. JSON answers, as STS
 * gives them to `Accept: application/json`.
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { listenOnLoopback, record, type RecordedRequest } from './loopback.js';

export interface FakeStsIdentity {
  accessKeyId: string;
  secretAccessKey: string;
  /** What GetCallerIdentity answers for this key. */
  arn: string;
}

export interface FakeSts {
  /** `http://127.0.0.1:PORT`: presign against it, and list it in identity.aws.stsEndpoints. */
  endpoint: string;
  requests: RecordedRequest[];
  /** GetCallerIdentity answers that were 200. */
  verified: string[];
  addIdentity(identity: FakeStsIdentity): void;
  stop(): Promise<void>;
}

const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

export async function startFakeSts(): Promise<FakeSts> {
  const identities = new Map<string, FakeStsIdentity>();
  const requests: RecordedRequest[] = [];
  const verified: string[] = [];

  const server = createServer((request, response) => {
    const seen = record(request, requests);
    void answer(seen, request.headers, response).catch((error: unknown) => fail(response, 500, 'InternalFailure', String(error)));
  });

  async function answer(seen: RecordedRequest, headers: Record<string, string | string[] | undefined>, response: ServerResponse): Promise<void> {
    const q = seen.query;
    if (seen.method !== 'GET' || q.get('Action') !== 'GetCallerIdentity') return fail(response, 400, 'InvalidAction', 'only GetCallerIdentity');
    const [accessKeyId, date, region, service] = (q.get('X-Amz-Credential') ?? '').split('/');
    const identity = identities.get(accessKeyId ?? '');
    if (!identity) return fail(response, 403, 'InvalidClientTokenId', 'The security token included in the request is invalid.');
    const m = AMZ_DATE.exec(q.get('X-Amz-Date') ?? '');
    if (!m || service !== 'sts' || !date || !region) return fail(response, 400, 'AuthorizationQueryParametersError', 'bad X-Amz-Credential or X-Amz-Date');
    const signingDate = new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
    const expiresIn = Number(q.get('X-Amz-Expires'));
    const signedHeaders = (q.get('X-Amz-SignedHeaders') ?? '').split(';');
    const unsignedQuery: Record<string, string> = {};
    for (const [name, value] of q) if (!name.startsWith('X-Amz-')) unsignedQuery[name] = value;
    const headerValues: Record<string, string> = {};
    for (const name of signedHeaders) headerValues[name] = String(headers[name] ?? '');
    const signer = new SignatureV4({
      credentials: { accessKeyId: identity.accessKeyId, secretAccessKey: identity.secretAccessKey, ...(q.get('X-Amz-Security-Token') ? { sessionToken: q.get('X-Amz-Security-Token')! } : {}) },
      region,
      service: 'sts',
      sha256: Hash.bind(null, 'sha256'),
    });
    const expected = await signer.presign(new HttpRequest({ method: 'GET', protocol: 'http:', hostname: '127.0.0.1', path: '/', query: unsignedQuery, headers: headerValues }), { expiresIn, signingDate });
    const want = Buffer.from(String(expected.query?.['X-Amz-Signature'] ?? ''));
    const got = Buffer.from(q.get('X-Amz-Signature') ?? '');
    const sameHeaders = expected.query?.['X-Amz-SignedHeaders'] === q.get('X-Amz-SignedHeaders');
    if (!sameHeaders || want.length !== got.length || !timingSafeEqual(want, got)) {
      return fail(response, 403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.');
    }
    if (Date.now() > signingDate.getTime() + expiresIn * 1000) return fail(response, 403, 'ExpiredToken', 'Request has expired');
    verified.push(identity.arn);
    const account = /::(\d{12}):/.exec(identity.arn)?.[1] ?? '000000000000';
    send(response, 200, { GetCallerIdentityResponse: { GetCallerIdentityResult: { Account: account, Arn: identity.arn, UserId: `AROA${accessKeyId}` }, ResponseMetadata: { RequestId: crypto.randomUUID() } } });
  }

  const { port, stop } = await listenOnLoopback(server);
  return { endpoint: `http://127.0.0.1:${port}`, requests, verified, addIdentity: (identity) => void identities.set(identity.accessKeyId, identity), stop };
}

function fail(response: ServerResponse, status: number, code: string, message: string): void {
  send(response, status, { Error: { Type: 'Sender', Code: code, Message: message }, RequestId: crypto.randomUUID() });
}

function send(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}
