/**
 * The policy dry run (docs/api.md `POST /v1/policy/evaluate`): what the business rules would answer
 * a create with this body, now, writing nothing. Served by the deployments function, beside the
 * create it previews; the caller needs the scope a create needs (`deploy:<service>`).
 */
import { evaluateCreatePolicy } from '../../usecases/create-deployment.js';
import { requireAccess } from '../auth.js';
import { parseJsonBody } from '../body.js';
import { FunctionName, type Route } from '../route.js';
import { createPolicyCommand, parseCreateDeploymentBody, requireOverrideAllowed } from '../schemas/create-deployment.js';

export const policyRoutes: readonly Route[] = [
  {
    method: 'POST',
    path: '/v1/policy/evaluate',
    functionName: FunctionName.Deployments,
    async handle({ request, deps, principal }) {
      const body = parseCreateDeploymentBody(parseJsonBody(request.body, request.headers['content-type']));
      requireAccess(principal, 'deploy', body.service);
      requireOverrideAllowed(principal, body);
      const { allowed, verdicts } = await evaluateCreatePolicy(deps, createPolicyCommand(body, principal.tokenId));
      return { statusCode: 200, body: { allowed, verdicts } };
    },
  },
];
