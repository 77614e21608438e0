/**
 * What the long-running ADS server (`crossfade xds-server`) is given: the engine's rules, which an
 * adapter may not import itself (ARCHITECTURE.md).
 */
import { assertConsistent } from '../engine/envoy/consistency.js';
import { groupOfNode } from '../engine/envoy/discovery.js';

export function xdsServerDeps(env: Record<string, string | undefined>) {
  return { checkSnapshot: assertConsistent, groupOfNode, env };
}
