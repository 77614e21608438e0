/** `crossfade watch`: follows a deployment live until it ends (docs/cli.md "watch"). Placeholder. */
import type { Writable } from 'node:stream';
import type { StatusDocument } from '../../shared/http/status-document.js';
import type { Transport } from '../transport/transport.js';

export interface WatchOptions {
  out: Writable;
  /** Redraw in place (a terminal); otherwise one line per change. */
  tty: boolean;
  color: boolean;
  /** Time between polls; default 2000. */
  intervalMs?: number;
  signal?: AbortSignal;
}

/** Follows deployment `id` until it ends; answers its last status document. */
export async function watchDeployment(_transport: Transport, id: string, _options: WatchOptions): Promise<StatusDocument> {
  throw new Error(`watch ${id}: not implemented yet`);
}
