/**
 * The HTTP core every entry point calls: match the route, authenticate, check the path parameters,
 * run it, and turn whatever it throws into docs/api.md's error document. Entry points only convert their
 * platform's request and response to and from HttpRequest / HttpResponse.
 */
import { NotFoundError } from '../domain/errors.js';
import { mapError } from './error-response.js';
import type { Principal } from './auth.js';
import { authenticateCaller } from './caller-auth.js';
import { assertParameterHasRule, checkPathParameters } from './path-params.js';
import type { EdgeDeps, Route } from './route.js';
import { JSON_CONTENT_TYPE, type HttpRequest, type HttpResponse, type RequestHead } from './types.js';

export interface HttpHandler {
  (request: HttpRequest): Promise<HttpResponse>;
  /**
   * The answer the request line and headers already decide (no route, method not allowed, no valid
   * credential for a route that needs one, a bad path parameter), or undefined when the body must
   * be read and the request handled. A server that reads bodies itself asks this first, so nobody
   * without a credential makes it read one (shared/platform/node-http.ts). Asynchronous: a cloud
   * identity is verified with its cloud (caller-auth.ts).
   */
  admit(head: RequestHead): Promise<HttpResponse | undefined>;
}

interface CompiledRoute<D extends EdgeDeps> {
  route: Route<D>;
  pattern: RegExp;
  paramNames: string[];
}

type Admitted<D extends EdgeDeps> = { kind: 'admitted'; route: Route<D>; params: Record<string, string>; principal: Principal } | { kind: 'answered'; response: HttpResponse };

/**
 * @param deps what the routes read: each function builds only its own (shared/runtime/)
 * @param routes what this handler serves: a Lambda function's own routes, or the whole table (routes.ts).
 */
export function createHttpHandler<D extends EdgeDeps>(deps: D, routes: readonly Route<D>[]): HttpHandler {
  const compiled = routes.map(compile);

  function logged(head: RequestHead, started: number, response: HttpResponse, error?: unknown): HttpResponse {
    const log = deps.logger.child({ requestId: head.requestId, method: head.method, path: head.path });
    if (response.statusCode >= 500) log.error('request failed', { error, stack: error instanceof Error ? error.stack : undefined });
    log.info('request', { status: response.statusCode, durationMs: Math.round(performance.now() - started) });
    return response;
  }

  async function admitOrAnswer(head: RequestHead): Promise<Admitted<D>> {
    const match = findRoute(compiled, head);
    if (match.kind === 'method-not-allowed') {
      return { kind: 'answered', response: respond(405, { error: { code: 'METHOD_NOT_ALLOWED', message: `${head.method} is not allowed on ${head.path}` } }, { allow: match.allowed.join(', ') }) };
    }
    const { route, params } = match;
    const principal = route.public ? { tokenId: 'anonymous', scopes: [] } : await authenticateCaller(head.headers['authorization'], deps.tokens, deps.callers);
    checkPathParameters(params);
    return { kind: 'admitted', route, params, principal };
  }

  const handle = async (request: HttpRequest): Promise<HttpResponse> => {
    const started = performance.now();
    try {
      const admitted = await admitOrAnswer(request);
      if (admitted.kind === 'answered') return logged(request, started, admitted.response);
      const { route, params, principal } = admitted;
      const baseUrl = deps.publicBaseUrl ?? request.origin;
      const answer = await route.handle({ request, params, deps, baseUrl, principal });
      return logged(request, started, respond(answer.statusCode, answer.body, answer.headers));
    } catch (error) {
      return logged(request, started, errorResponse(error), error);
    }
  };

  const admit = async (head: RequestHead): Promise<HttpResponse | undefined> => {
    const started = performance.now();
    try {
      const admitted = await admitOrAnswer(head);
      return admitted.kind === 'answered' ? logged(head, started, admitted.response) : undefined;
    } catch (error) {
      return logged(head, started, errorResponse(error), error);
    }
  };

  return Object.assign(handle, { admit });
}

export function errorResponse(error: unknown): HttpResponse {
  const mapped = mapError(error);
  return respond(mapped.statusCode, mapped.body, mapped.headers);
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

function compile<D extends EdgeDeps>(route: Route<D>): CompiledRoute<D> {
  const paramNames: string[] = [];
  for (const [, name] of route.path.matchAll(/\{(\w+)\}/g)) {
    assertParameterHasRule(route.path, name!);
    paramNames.push(name!);
  }
  return { route, pattern: pathPattern(route.path), paramNames };
}

/** What a route's path matches: `{name}` is one segment (captured), a trailing "/" is allowed. */
export function pathPattern(path: string): RegExp {
  return new RegExp(`^${path.replace(/\{(\w+)\}/g, '([^/]+)')}/?$`);
}

type RouteMatch<D extends EdgeDeps> = { kind: 'found'; route: Route<D>; params: Record<string, string> } | { kind: 'method-not-allowed'; allowed: string[] };

function findRoute<D extends EdgeDeps>(compiled: readonly CompiledRoute<D>[], request: RequestHead): RouteMatch<D> {
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
