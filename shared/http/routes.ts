/**
 * The one route table every entry point serves. `functionName` says which AWS Lambda function
 * serves the route (each has only the IAM permissions its routes need); GCP and the local server
 * serve them all.
 */
import { createHash } from 'node:crypto';
import { DeploymentStatus } from '../domain/deployment.js';
import { ValidationError } from '../domain/errors.js';
import { SERVICE_NAME_PATTERN, SERVICE_NAME_RULE } from '../domain/names.js';
import { createDeployment } from '../usecases/create-deployment.js';
import { getDeployment, listDeployments } from '../usecases/read-deployments.js';
import type { UseCaseDeps } from '../usecases/deps.js';
import { authenticate, requireAccess, requireAccessToEveryService, type Principal, type TokenIndex } from './auth.js';
import { parseJsonBody } from './body.js';
import { parseCreateDeploymentBody, parseIdempotencyKey } from './schemas/create-deployment.js';
import { deploymentUrl, statusDocument } from './status-document.js';
import type { HttpRequest } from './types.js';

export interface HttpDeps extends UseCaseDeps {
  tokens: TokenIndex;
  /** Base of absolute URLs; undefined: the request's own origin. */
  publicBaseUrl: string | undefined;
  /** The package version, for /healthz. */
  version: string;
}

export interface RouteContext {
  request: HttpRequest;
  params: Record<string, string>;
  deps: HttpDeps;
  baseUrl: string;
  /** Present on every route but the public ones. */
  principal: Principal;
}

export interface RouteAnswer {
  statusCode: number;
  body: unknown;
  headers?: Record<string, string>;
}

export const FunctionName = { Health: 'health', Deployments: 'deployments' } as const;
export type FunctionName = (typeof FunctionName)[keyof typeof FunctionName];

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** `{name}` matches one path segment. */
  path: string;
  functionName: FunctionName;
  public?: true;
  handle(context: RouteContext): Promise<RouteAnswer>;
}

export const routes: readonly Route[] = [
  {
    method: 'GET',
    path: '/healthz',
    functionName: FunctionName.Health,
    public: true,
    handle: async ({ deps }) => ({ statusCode: 200, body: { status: 'ok', version: deps.version } }),
  },
  {
    method: 'POST',
    path: '/v1/deployments',
    functionName: FunctionName.Deployments,
    async handle({ request, deps, principal, baseUrl }) {
      const raw = parseJsonBody(request.body);
      const body = parseCreateDeploymentBody(raw);
      requireAccess(principal, 'deploy', body.service);
      const { deployment } = await createDeployment(deps, {
        service: body.service,
        baseline: body.baseline ?? null,
        canary: body.canary,
        targets: body.targets ?? [],
        steps: body.steps,
        spinnaker: body.spinnaker ?? null,
        reason: body.reason ?? null,
        actor: principal.tokenId,
        idempotencyKey: parseIdempotencyKey(request.headers['x-idempotency-key'], body.spinnaker),
        requestHash: hashCanonical(raw),
      });
      return { statusCode: 202, body: statusDocument(deployment, baseUrl), headers: { location: deploymentUrl(baseUrl, deployment.id) } };
    },
  },
  {
    method: 'GET',
    path: '/v1/deployments',
    functionName: FunctionName.Deployments,
    async handle({ request, deps, principal, baseUrl }) {
      const query = parseListQuery(request.query);
      if (query.service !== undefined) requireAccess(principal, 'read', query.service);
      else requireAccessToEveryService(principal, 'read');
      const page = await listDeployments(deps, query);
      return { statusCode: 200, body: { items: page.items.map((d) => statusDocument(d, baseUrl)), nextCursor: page.nextCursor ?? null } };
    },
  },
  {
    method: 'GET',
    path: '/v1/deployments/{id}',
    functionName: FunctionName.Deployments,
    async handle({ params, deps, principal, baseUrl }) {
      const deployment = await getDeployment(deps, params['id']!);
      requireAccess(principal, 'read', deployment.service);
      return { statusCode: 200, body: statusDocument(deployment, baseUrl) };
    },
  },
];

export function authenticateRequest(request: HttpRequest, tokens: TokenIndex): Principal {
  return authenticate(request.headers['authorization'], tokens);
}

const STATUSES = Object.values(DeploymentStatus) as string[];
const LIST_PARAMS = new Set(['service', 'status', 'limit', 'cursor']);

function parseListQuery(query: Record<string, string>) {
  const unknown = Object.keys(query).find((key) => !LIST_PARAMS.has(key));
  if (unknown !== undefined) throw new ValidationError(`query parameter ${unknown} is not known (use service, status, limit, cursor)`, unknown, 'no-unknown-fields');
  const { service, status, limit, cursor } = query;
  if (service !== undefined && !SERVICE_NAME_PATTERN.test(service)) throw new ValidationError(`service must be ${SERVICE_NAME_RULE}`, 'service', 'service-name');
  if (status !== undefined && !STATUSES.includes(status)) throw new ValidationError(`status must be one of ${STATUSES.join(', ')}`, 'status', 'enum');
  const pageSize = limit === undefined ? 50 : Number(limit);
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 100) throw new ValidationError('limit must be a whole number from 1 to 100', 'limit', 'range');
  return { service, status: status as DeploymentStatus | undefined, limit: pageSize, cursor };
}

/** sha256 of the body with keys sorted, so key order and whitespace do not make a "different body". */
export function hashCanonical(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.keys(value).sort().map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}
