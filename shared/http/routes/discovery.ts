/**
 * Envoy's REST-JSON discovery API (docs/api.md "Data plane"; docs/dataplane.md):
 * `POST /v3/discovery:{clusters,endpoints,listeners,routes}`, a DiscoveryRequest in, 304 with an
 * empty body when the node's version is current, else a DiscoveryResponse.
 *
 * Public in the route table's sense (no bearer token: Envoy's REST subscriptions cannot send
 * headers), but every poll is authenticated by the token in `node.metadata.token`, which must have
 * scope `xds:<group>` for the node's proxy group; nothing is read or written before that check.
 */
import { ForbiddenError, ValidationError } from '../../domain/errors.js';
import { DISCOVERY_PATH_TYPES, groupOfNode, parseDiscoveryRequest } from '../../engine/envoy/discovery.js';
import type { XdsTypeUrl } from '../../engine/envoy/snapshot.js';
import { serveDiscovery } from '../../usecases/serve-discovery.js';
import type { EnvoyGroup } from '../../usecases/xds-deps.js';
import { authenticateProxy, requireXdsAccess } from '../auth.js';
import { parseJsonBody } from '../body.js';
import { FunctionName, type Route, type RouteAnswer, type RouteContext } from '../route.js';

/** As crossfade.yaml's `proxies[].nodeId`. */
const MAX_NODE_ID = 256;
/** crossfade's versions are 16 hex digits; room for another control plane's. */
const MAX_VERSION = 128;

export const discoveryRoutes: readonly Route[] = Object.entries(DISCOVERY_PATH_TYPES).map(([kind, typeUrl]) => ({
  method: 'POST',
  path: `/v3/discovery:${kind}`,
  functionName: FunctionName.Discovery,
  public: true,
  handle: (context: RouteContext) => discover(context, typeUrl),
}));

async function discover({ request, deps }: RouteContext, typeUrl: XdsTypeUrl): Promise<RouteAnswer> {
  const body = parseJsonBody(request.body, request.headers['content-type']);
  const principal = authenticateProxy(metadataToken(body), deps.tokens);

  // The path names the type; a body that names another one is a misconfigured client, not a wish.
  const named = body['type_url'] ?? body['typeUrl'];
  if (named !== undefined && named !== typeUrl) throw new ValidationError(`type_url ${JSON.stringify(named)} is not the type ${request.path} serves (${typeUrl})`, 'type_url', 'xds-path-type');
  const discovery = parseDiscoveryRequest({ ...body, type_url: typeUrl });
  const node = discovery.node;
  if (!node || node.id === '') throw new ValidationError('a DiscoveryRequest must carry node.id', 'node.id', 'required');
  // Both are stored with the acknowledgement (the node id in a key, which DynamoDB caps at 1 KB).
  if (node.id.length > MAX_NODE_ID) throw new ValidationError(`node.id must be at most ${MAX_NODE_ID} characters`, 'node.id', 'max-length');
  if (discovery.versionInfo.length > MAX_VERSION) throw new ValidationError(`version_info must be at most ${MAX_VERSION} characters`, 'version_info', 'max-length');

  const groupName = groupOfNode(node, deps.proxyGroups);
  if (groupName === undefined) {
    throw new ForbiddenError(`node ${node.id} (cluster "${node.cluster}") belongs to no Envoy proxy group: list it in proxyGroups[].proxies, or set node.cluster to its group's name`, 'xds-group');
  }
  requireXdsAccess(principal, groupName, node.id);
  const group = deps.proxyGroups.find((g): g is EnvoyGroup => g.kind === 'envoy' && g.name === groupName)!;

  const answer = await serveDiscovery(deps, { group, nodeId: node.id, request: discovery });
  return answer.status === 304 ? { statusCode: 304, body: undefined } : { statusCode: 200, body: answer.body };
}

/** `node.metadata.token`: google.protobuf.Struct prints as a plain JSON object. */
function metadataToken(body: Record<string, unknown>): unknown {
  const node = body['node'];
  const metadata = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)['metadata'] : undefined;
  return metadata !== null && typeof metadata === 'object' ? (metadata as Record<string, unknown>)['token'] : undefined;
}
