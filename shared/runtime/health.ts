/**
 * The health function's composition: the core only (runtime/core.ts). `GET /healthz` reads no
 * state, so this function builds no table client, no workflow, no metrics: its bundle holds no SDK.
 */
import type { EdgeDeps } from '../http/route.js';
import { buildCore, type CoreOptions } from './core.js';

export function buildHealthDeps(options: CoreOptions): EdgeDeps {
  const { config, configSource, edge } = buildCore(options);
  edge.logger.info('configuration loaded', { source: configSource, tokens: config.tokens.length });
  return edge;
}
