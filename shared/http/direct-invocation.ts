/**
 * The event of a direct invocation (AWS Lambda Invoke, Spinnaker's "AWS Lambda Invoke" stage) and
 * its answer, docs/direct-invocation.md:
 *
 *   {"crossfade": {"method", "path", "query"?, "headers"?, "body"?},
 *    "identity": {"sts": {"url": "<presigned GetCallerIdentity>"}} | {"bearer": "<crossfade token>"}}
 *   → {"statusCode", "headers", "body": <the API's JSON document, or null>}
 *
 * The request becomes the same HttpRequest an HTTP caller's would (the identity as its
 * Authorization header, caller-auth.ts), so the answer is the API's own, errors included.
 */
import * as z from 'zod/mini';
import { JSON_CONTENT_TYPE, type HttpRequest, type HttpResponse } from './types.js';
import { stsBearer } from './caller-auth.js';
import { parseWith } from './schemas/zod-errors.js';

const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]{1,64}$/;
const text = (max: number) => z.string().check(z.maxLength(max, `must be at most ${max} characters`));

const request = z.strictObject({
  method: z.enum(['GET', 'POST', 'PUT', 'DELETE'], 'must be GET, POST, PUT or DELETE'),
  path: z.string().check(z.regex(/^\/[\x21-\x7e]{0,1023}$/, 'must be a path starting with "/" (no query: use query)')),
  query: z.optional(z.record(text(128), text(1024))),
  headers: z.optional(
    z.record(
      z.string().check(
        z.regex(HEADER_NAME, 'must be a lower-case header name'),
        z.refine((name) => name !== 'authorization', 'must not be authorization: the identity says who calls'),
      ),
      text(1024),
    ),
  ),
  /** The JSON document a POST or PUT sends. */
  body: z.optional(z.unknown()),
});

const identity = z.union([
  z.strictObject({ sts: z.strictObject({ url: text(4096) }) }),
  z.strictObject({ bearer: text(512) }),
], 'must be {"sts": {"url": "<presigned GetCallerIdentity URL>"}} or {"bearer": "<crossfade token>"}');

const event = z.strictObject({ crossfade: request, identity: z.optional(identity) });

export type DirectInvocation = z.infer<typeof event>;

export interface DirectAnswer {
  statusCode: number;
  headers: Record<string, string>;
  /** The API's JSON document; null for 304 Not Modified. */
  body: unknown;
}

/** True for an event meant for this shape (the rest of it may still be invalid: 400). */
export function isDirectInvocation(event: unknown): event is { crossfade: unknown } {
  return typeof event === 'object' && event !== null && 'crossfade' in event;
}

/** The HttpRequest a direct invocation stands for; ValidationError naming the field when it is not one. */
export function requestFromInvocation(raw: unknown, requestId: string, origin: string): HttpRequest {
  const parsed = parseWith(event, raw);
  const { method, path, query = {}, headers = {}, body } = parsed.crossfade;
  const authorization = parsed.identity === undefined ? undefined : 'sts' in parsed.identity ? `Bearer ${stsBearer(parsed.identity.sts.url)}` : `Bearer ${parsed.identity.bearer}`;
  const bytes = body === undefined ? undefined : Buffer.from(JSON.stringify(body), 'utf8');
  return {
    method,
    path,
    query,
    headers: {
      ...headers,
      ...(bytes ? { 'content-type': headers['content-type'] ?? JSON_CONTENT_TYPE } : {}),
      ...(authorization ? { authorization } : {}),
    },
    body: bytes,
    origin,
    requestId,
  };
}

export function answerOf(response: HttpResponse): DirectAnswer {
  return { statusCode: response.statusCode, headers: response.headers, body: response.body === '' ? null : (JSON.parse(response.body) as unknown) };
}
