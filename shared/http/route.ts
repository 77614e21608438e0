/**
 * What a route is: the shape every entry of the route table has, and what it is given.
 * `functionName` says which AWS Lambda function serves the route (each has only the IAM
 * permissions its routes need); GCP and the local server serve them all.
 */
import type { UseCaseDeps } from '../usecases/deps.js';
import type { CanaryDeps } from '../usecases/canary/deps.js';
import type { XdsDeps } from '../usecases/xds-deps.js';
import type { ReconcileRunDeps } from '../usecases/reconcile-run.js';
import type { Principal, TokenIndex } from './auth.js';
import type { CallerAuth } from './caller-auth.js';
import type { HttpRequest } from './types.js';
import type { Logger } from '../ports/logger.js';

/**
 * What the HTTP core itself uses (authentication, logging, links), whatever the routes: the whole
 * of what the health function builds (shared/runtime/health.ts).
 */
export interface EdgeDeps {
  logger: Logger;
  tokens: TokenIndex;
  /** Cloud identities accepted besides tokens (docs/direct-invocation.md); undefined: tokens only. */
  callers?: CallerAuth;
  /** Base of absolute URLs; undefined: the request's own origin. */
  publicBaseUrl: string | undefined;
  /** The package version, for /healthz. */
  version: string;
}

export interface HttpDeps extends UseCaseDeps, CanaryDeps, XdsDeps, ReconcileRunDeps, EdgeDeps {
  /**
   * Has a reconcile run driven elsewhere, now (runtime/maintenance.ts): Lambda invokes itself, the
   * local stack drives it in-process. Undefined: the scheduled reconciliation drives it (GCP).
   */
  dispatchReconcile?: (runId: string) => Promise<void>;
}

/** `D`: what the route's handler reads; the whole set by default, EdgeDeps for /healthz. */
export interface RouteContext<D extends EdgeDeps = HttpDeps> {
  request: HttpRequest;
  params: Record<string, string>;
  deps: D;
  baseUrl: string;
  /** Present on every route but the public ones. */
  principal: Principal;
}

export interface RouteAnswer {
  statusCode: number;
  body: unknown;
  headers?: Record<string, string>;
}

export const FunctionName = { Health: 'health', Deployments: 'deployments', Services: 'services', Reconcile: 'reconcile', Discovery: 'discovery' } as const;
export type FunctionName = (typeof FunctionName)[keyof typeof FunctionName];

export interface Route<D extends EdgeDeps = HttpDeps> {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** `{name}` matches one path segment. */
  path: string;
  functionName: FunctionName;
  public?: true;
  handle(context: RouteContext<D>): Promise<RouteAnswer>;
}

