/**
 * AWS Lambda behind API Gateway HTTP API (payload format 2.0), through middy: the HTTP stack.
 * Converts the event to an HttpRequest and the answer back; nothing else.
 */
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { HttpHandler } from '../http/handle.js';
import type { HttpRequest } from '../http/types.js';

export type LambdaHttpHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

/** @param build makes the HTTP handler; called once, on the first invocation of a cold start. */
export function lambdaHttpHandler(build: () => HttpHandler): LambdaHttpHandler {
  let handle: HttpHandler | undefined;
  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>().handler(async function serveHttpEvent(event, context) {
    handle ??= build();
    const response = await handle(requestFromEvent(event, context.awsRequestId));
    return { statusCode: response.statusCode, headers: response.headers, body: response.body, isBase64Encoded: false };
  });
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
