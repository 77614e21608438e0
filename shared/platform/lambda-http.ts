/**
 * AWS Lambda serving the HTTP core, through middy: the HTTP stack. Two events reach it:
 * - API Gateway HTTP API's (payload format 2.0), answered in its result shape;
 * - a direct invocation (Lambda Invoke, Spinnaker's "AWS Lambda Invoke" stage), whose event and
 *   answer docs/direct-invocation.md describes (shared/http/direct-invocation.ts).
 * Either is converted to an HttpRequest and the answer back; nothing else.
 */
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { answerOf, isDirectInvocation, requestFromInvocation, type DirectAnswer } from '../http/direct-invocation.js';
import { errorResponse, type HttpHandler } from '../http/handle.js';
import type { HttpRequest } from '../http/types.js';

export type LambdaHttpEvent = APIGatewayProxyEventV2 | { crossfade: unknown };
export type LambdaHttpHandler = (event: LambdaHttpEvent, context: Context) => Promise<APIGatewayProxyStructuredResultV2 | DirectAnswer>;

/** @param build makes the HTTP handler; called once, on the first invocation of a cold start. */
export function lambdaHttpHandler(build: () => HttpHandler): LambdaHttpHandler {
  let handle: HttpHandler | undefined;
  return middy<LambdaHttpEvent, APIGatewayProxyStructuredResultV2 | DirectAnswer>().handler(async function serveHttpEvent(event, context) {
    handle ??= build();
    if (isDirectInvocation(event)) return answerOf(await serveInvocation(handle, event, context));
    const response = await handle(requestFromEvent(event, context.awsRequestId));
    return { statusCode: response.statusCode, headers: response.headers, body: response.body, isBase64Encoded: false };
  });
}

async function serveInvocation(handle: HttpHandler, event: unknown, context: Context) {
  let request: HttpRequest;
  try {
    // No URL reached us: links in answers use publicBaseUrl when configured, else name the function.
    request = requestFromInvocation(event, context.awsRequestId, `lambda://${context.functionName}`);
  } catch (error) {
    return errorResponse(error);
  }
  return handle(request);
}

export function requestFromEvent(event: APIGatewayProxyEventV2, requestId: string): HttpRequest {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) if (value !== undefined) headers[name.toLowerCase()] = value;
  const query: Record<string, string> = {};
  // API Gateway joins repeated parameters with ","; the first value is the one that counts.
  for (const [name, value] of Object.entries(event.queryStringParameters ?? {})) if (value !== undefined) query[name] = value.split(',')[0]!;
  return {
    method: event.requestContext.http.method,
    path: event.rawPath,
    query,
    headers,
    body: event.body === undefined ? undefined : Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8'),
    origin: `https://${event.requestContext.domainName}`,
    requestId,
  };
}
