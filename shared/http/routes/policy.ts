/**
 * The policy dry run (docs/api.md `POST /v1/policy/evaluate`): what the business rules would answer
 * a create with this body, now, writing nothing. Served by the deployments function, beside the
 * create it previews; the caller needs the scope a create needs (`deploy:<service>`).
 *
 * The GET form asks again about the same body, carried in the URL: Spinnaker's webhook stages
 * follow a POST with GETs of a status URL (spinnaker/orca-local.yml `crossfadePolicyCheck`), and the
 * dry run stores nothing a GET could read back. So the answer names that URL, and its `status` and
 * `progress` are the fields such a stage reads.
 */
import type { PolicyDecision } from '../../domain/policy/evaluate.js';
import { ValidationError } from '../../domain/errors.js';
import { evaluateCreatePolicy } from '../../usecases/create-deployment.js';
import { denialOf } from '../../usecases/policy-check.js';
import { requireAccess } from '../auth.js';
import { parseJsonBody } from '../body.js';
import { FunctionName, type RouteAnswer, type RouteContext, type Route } from '../route.js';
import { createPolicyCommand, parseCreateDeploymentBody, requireOverrideAllowed } from '../schemas/create-deployment.js';

const PATH = '/v1/policy/evaluate';
/**
 * The longest `request` the GET form takes: a pipeline stage's body is a few hundred bytes, and
 * URLs much past 8 KB are cut by proxies. A body whose encoding is longer gets `statusUrl: null`.
 */
export const MAX_REQUEST_CHARS = 8_192;

export const policyRoutes: readonly Route[] = [
  {
    method: 'POST',
    path: PATH,
    functionName: FunctionName.Deployments,
    handle: (context) => evaluate(context, parseJsonBody(context.request.body, context.request.headers['content-type'])),
  },
  {
    method: 'GET',
    path: PATH,
    functionName: FunctionName.Deployments,
    handle: (context) => evaluate(context, requestOfQuery(context.request.query)),
  },
];

async function evaluate({ deps, principal, baseUrl }: Pick<RouteContext, 'deps' | 'principal' | 'baseUrl'>, raw: Record<string, unknown>): Promise<RouteAnswer> {
  const body = parseCreateDeploymentBody(raw);
  requireAccess(principal, 'deploy', body.service);
  requireOverrideAllowed(principal, body);
  const decision = await evaluateCreatePolicy(deps, createPolicyCommand(body, principal.tokenId));
  const encoded = Buffer.from(JSON.stringify(raw), 'utf8').toString('base64url');
  return {
    statusCode: 200,
    // A verdict holds for the moment it was asked: never from a cache.
    headers: { 'cache-control': 'no-store' },
    body: {
      allowed: decision.allowed,
      status: decision.allowed ? 'ALLOWED' : 'DENIED',
      progress: progressOf(decision),
      verdicts: decision.verdicts,
      statusUrl: encoded.length <= MAX_REQUEST_CHARS ? `${baseUrl}${PATH}?request=${encoded}` : null,
    },
  };
}

/** One line for a pipeline's stage: the refusals as a refused create's message says them. */
function progressOf(decision: PolicyDecision): string {
  if (!decision.allowed) return denialOf(decision).message;
  if (decision.verdicts.length === 0) return 'allowed: no policy rule applies';
  return `allowed by every rule that applies: ${decision.verdicts.map((v) => v.rule).join(', ')}`;
}

/** `?request=<base64url of the JSON body>`, as `statusUrl` writes it; nothing else. */
function requestOfQuery(query: Record<string, string>): Record<string, unknown> {
  const unknown = Object.keys(query).find((key) => key !== 'request');
  if (unknown !== undefined) throw new ValidationError(`${unknown} is not a parameter of GET ${PATH}: only request`, unknown, 'known-parameters');
  const encoded = query['request'];
  const rule = `request must be the base64url of a create's JSON body (at most ${MAX_REQUEST_CHARS} characters), as the dry run's statusUrl gives it`;
  if (encoded === undefined || encoded.length === 0 || encoded.length > MAX_REQUEST_CHARS || !/^[A-Za-z0-9_-]+$/.test(encoded)) throw new ValidationError(rule, 'request', 'base64url-json');
  try {
    return parseJsonBody(Buffer.from(encoded, 'base64url'), 'application/json');
  } catch (error) {
    if (error instanceof ValidationError && error.field === undefined) throw new ValidationError(`${rule}: ${error.message}`, 'request', 'base64url-json');
    throw error;
  }
}
