/**
 * The HTTP core every entry point calls: match the route, authenticate, run it, and turn whatever
 * it throws into API.md's error document. Entry points only convert their platform's request and
 * response to and from HttpRequest / HttpResponse.
 */
import { NotFoundError } from '../domain/errors.js';
import { mapError } from './error-response.js';
import { authenticate } from './auth.js';
import type { HttpDeps, Route } from './route.js';
import { JSON_CONTENT_TYPE, type HttpRequest, type HttpResponse } from './types.js';

export type HttpHandler = (request: HttpRequest) => Promise<HttpResponse>;

interface CompiledRoute {
  route: Route;
  pattern: RegExp;
  paramNames: string[];
}

/** @param routes what this handler serves: a Lambda function's own routes, or the whole table (routes.ts). */
export function createHttpHandler(deps: HttpDeps, routes: readonly Route[]): HttpHandler {
  const compiled = routes.map(compile);
  return async (request) => {
    const log = deps.logger.child({ requestId: request.requestId, method: request.method, path: request.path });
    const started = performance.now();
    const finish = (response: HttpResponse) => {
      log.info('request', { status: response.statusCode, durationMs: Math.round(performance.now() - started) });
      return response;
    };
    try {
      const match = findRoute(compiled, request);
      if (match.kind === 'method-not-allowed') {
        return finish(respond(405, { error: { code: 'METHOD_NOT_ALLOWED', message: `${request.method} is not allowed on ${request.path}` } }, { allow: match.allowed.join(', ') }));
      }
      const { route, params } = match;
      const principal = route.public ? { tokenId: 'anonymous', scopes: [] } : authenticate(request.headers['authorization'], deps.tokens);
      const baseUrl = deps.publicBaseUrl ?? request.origin;
      const answer = await route.handle({ request, params, deps, baseUrl, principal });
      return finish(respond(answer.statusCode, answer.body, answer.headers));
    } catch (error) {
      const mapped = mapError(error);
      if (mapped.statusCode >= 500) log.error('request failed', { error, stack: error instanceof Error ? error.stack : undefined });
      return finish(respond(mapped.statusCode, mapped.body, mapped.headers));
    }
  };
}

export function respond(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResponse {
  // 304 Not Modified has no body, so no content type (RFC 9110 §15.4.5): Envoy's REST "unchanged".
  if (statusCode === 304) return { statusCode, headers: { 'cache-control': 'no-store', ...headers }, body: '' };
  return {
    statusCode,
    headers: { 'content-type': JSON_CONTENT_TYPE, 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(body),
  };
}

function compile(route: Route): CompiledRoute {
  const paramNames: string[] = [];
  const source = route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    paramNames.push(name);
    return '([^/]+)';
  });
  return { route, pattern: new RegExp(`^${source}/?$`), paramNames };
}

type RouteMatch = { kind: 'found'; route: Route; params: Record<string, string> } | { kind: 'method-not-allowed'; allowed: string[] };

function findRoute(compiled: readonly CompiledRoute[], request: HttpRequest): RouteMatch {
  const allowed: string[] = [];
  for (const { route, pattern, paramNames } of compiled) {
    const match = pattern.exec(request.path);
    if (!match) continue;
    if (route.method !== request.method.toUpperCase()) {
      allowed.push(route.method);
      continue;
    }
    const params: Record<string, string> = {};
    paramNames.forEach((name, index) => (params[name] = safeDecode(match[index + 1]!)));
    return { kind: 'found', route, params };
  }
  if (allowed.length > 0) return { kind: 'method-not-allowed', allowed };
  throw new NotFoundError(`no route for ${request.method} ${request.path}`);
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
