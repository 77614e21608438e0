/**
 * Mesh registration (docs/api.md): register, deregister and describe versions of a service, list
 * services, and declare the services one calls (its sidecar groups are republished). A
 * registration or deregistration is followed by programming every proxy group with what the
 * registry now holds (usecases/program-service.ts); both steps are idempotent, so a caller that
 * retries after a failure in either (503) finishes both. A proxy that cannot be programmed does
 * not fail the request: the answer's `proxies` says, per group, what it serves.
 */
import { allows } from '../../domain/scopes.js';
import { declareDependencies, readDependencies } from '../../usecases/declare-dependencies.js';
import { deregisterVersion } from '../../usecases/deregister-version.js';
import { describeService } from '../../usecases/describe-service.js';
import { listServices } from '../../usecases/list-services.js';
import { programService } from '../../usecases/program-service.js';
import { registerVersion } from '../../usecases/register-version.js';
import { requireAccess } from '../auth.js';
import { auditTimeline } from '../audit-timeline.js';
import { parseJsonBody } from '../body.js';
import { parsePageQuery } from '../page-query.js';
import { FunctionName, type Route } from '../route.js';
import { parseDeclareDependenciesBody } from '../schemas/declare-dependencies.js';
import { parseReasonOnly } from '../schemas/reason.js';
import { parseRegisterVersionBody } from '../schemas/register-version.js';

export const serviceRoutes: readonly Route[] = [
  {
    method: 'PUT',
    path: '/v1/services/{service}/versions/{version}',
    functionName: FunctionName.Services,
    async handle({ request, params, deps, principal }) {
      const { service, version } = serviceAndVersion(params);
      requireAccess(principal, 'deploy', service);
      const { targets, reason } = parseRegisterVersionBody(parseJsonBody(request.body, request.headers['content-type']));
      const { registration, outcome } = await registerVersion(deps, { service, version, targets, actor: principal.tokenId, reason });
      const proxies = await programService(deps, service);
      return { statusCode: outcome === 'created' ? 201 : 200, body: { ...registration, outcome, proxies } };
    },
  },
  {
    method: 'DELETE',
    path: '/v1/services/{service}/versions/{version}',
    functionName: FunctionName.Services,
    async handle({ request, params, deps, principal }) {
      const { service, version } = serviceAndVersion(params);
      requireAccess(principal, 'deploy', service);
      // A DELETE may carry a body here: only `reason`, for the audit trail.
      const reason = parseReasonOnly(parseJsonBody(request.body, request.headers['content-type']));
      const outcome = await deregisterVersion(deps, { service, version, actor: principal.tokenId, reason });
      const proxies = await programService(deps, service);
      return { statusCode: 200, body: { service, version, outcome, proxies } };
    },
  },
  {
    method: 'PUT',
    path: '/v1/services/{service}/dependencies',
    functionName: FunctionName.Services,
    async handle({ request, params, deps, principal }) {
      const service = params['service']!;
      requireAccess(principal, 'deploy', service);
      const { dependencies, reason } = parseDeclareDependenciesBody(parseJsonBody(request.body, request.headers['content-type']));
      const { declared, outcome, publication } = await declareDependencies(deps, { service, dependencies, actor: principal.tokenId, reason });
      const sidecarGroups = Object.fromEntries((publication?.groups ?? []).map((g) => [g.group, g.outcome]));
      return { statusCode: outcome === 'created' ? 201 : 200, body: { ...declared, outcome, sidecarGroups } };
    },
  },
  {
    method: 'GET',
    path: '/v1/services/{service}/dependencies',
    functionName: FunctionName.Services,
    async handle({ params, deps, principal }) {
      const service = params['service']!;
      requireAccess(principal, 'read', service);
      return { statusCode: 200, body: await readDependencies(deps, service) };
    },
  },
  {
    method: 'GET',
    path: '/v1/services',
    functionName: FunctionName.Services,
    async handle({ request, deps, principal }) {
      const page = parsePageQuery(request.query);
      // Filtered, not refused: a token sees the services it may read (docs/api.md).
      const listed = await listServices(deps, { ...page, visible: (service) => allows(principal.scopes, 'read', service) });
      return { statusCode: 200, body: { items: listed.items, nextCursor: listed.nextCursor ?? null } };
    },
  },
  {
    method: 'GET',
    path: '/v1/services/{service}/events',
    functionName: FunctionName.Services,
    async handle({ request, params, deps, principal }) {
      const service = params['service']!;
      requireAccess(principal, 'read', service);
      return { statusCode: 200, body: await auditTimeline(deps.audit, `service/${service}`, request.query) };
    },
  },
  {
    method: 'GET',
    path: '/v1/services/{service}',
    functionName: FunctionName.Services,
    async handle({ params, deps, principal }) {
      const service = params['service']!;
      requireAccess(principal, 'read', service);
      return { statusCode: 200, body: await describeService(deps, service) };
    },
  },
];

/** Both checked by the HTTP core before the route runs (shared/http/path-params.ts). */
function serviceAndVersion(params: Record<string, string>): { service: string; version: string } {
  return { service: params['service']!, version: params['version']! };
}
