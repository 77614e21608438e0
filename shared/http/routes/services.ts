/**
 * Mesh registration (API.md "Mesh registration"): register, deregister and describe versions of a
 * service. A registration or deregistration is followed by publishing the Envoy groups' snapshots,
 * so the proxies learn of it; both steps are idempotent, so a caller that retries after a failure in
 * either (503) finishes both. A snapshot refused as inconsistent does not fail the registration: the
 * proxies keep their last snapshot, and the refusal is logged naming the resource.
 */
import { deregisterVersion } from '../../usecases/deregister-version.js';
import { describeService } from '../../usecases/describe-service.js';
import { publishSnapshots } from '../../usecases/publish-snapshots.js';
import { registerVersion } from '../../usecases/register-version.js';
import { requireAccess } from '../auth.js';
import { parseJsonBody } from '../body.js';
import { FunctionName, type Route } from '../route.js';
import { parseRegisterVersionBody } from '../schemas/register-version.js';

export const serviceRoutes: readonly Route[] = [
  {
    method: 'PUT',
    path: '/v1/services/{service}/versions/{version}',
    functionName: FunctionName.Services,
    async handle({ request, params, deps, principal }) {
      const { service, version } = serviceAndVersion(params);
      requireAccess(principal, 'deploy', service);
      const targets = parseRegisterVersionBody(parseJsonBody(request.body));
      const { registration, outcome } = await registerVersion(deps, { service, version, targets, actor: principal.tokenId });
      await publishSnapshots(deps, { services: [service] });
      return { statusCode: outcome === 'created' ? 201 : 200, body: { ...registration, outcome } };
    },
  },
  {
    method: 'DELETE',
    path: '/v1/services/{service}/versions/{version}',
    functionName: FunctionName.Services,
    async handle({ params, deps, principal }) {
      const { service, version } = serviceAndVersion(params);
      requireAccess(principal, 'deploy', service);
      const outcome = await deregisterVersion(deps, { service, version, actor: principal.tokenId });
      await publishSnapshots(deps, { services: [service] });
      return { statusCode: 200, body: { service, version, outcome } };
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
