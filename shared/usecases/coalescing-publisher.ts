/**
 * Publishing, coalesced within one process: while a publish runs, every request that arrives
 * waits for the next one, and all of them share it: the union of their services (or the whole
 * registry when one asked for it). A publish reads the registry after it starts, so it carries
 * every registry write made before its waiters asked; it is never skipped, only shared. Where many canaries run in one process (the local stack, the ADS server) this turns N
 * concurrent publishes — each reading every service and racing for the same HEAD — into at most
 * two at a time. A Lambda instance runs one task at a time and gains nothing, and loses nothing.
 *
 * A publish starts once the current turn of the event loop has ended (setImmediate), so requests
 * made together share the first one too: a step asks the Envoy router once per group, all in one
 * turn (program-proxies.ts), and that is one publish covering every group.
 */
import { publishSnapshots, type PublishReport, type PublishRequest } from './publish-snapshots.js';
import type { XdsDeps } from './xds-deps.js';

export type Publish = (request: PublishRequest) => Promise<PublishReport>;

interface Batch {
  groups: Set<string> | undefined;
  /** undefined: the whole registry. */
  services: Set<string> | undefined;
  done: Promise<PublishReport>;
  resolve: (report: PublishReport) => void;
  reject: (error: unknown) => void;
}

export function coalescingPublisher(deps: XdsDeps): Publish {
  let running: Promise<unknown> | undefined;
  let next: Batch | undefined;
  /** The batch collecting this turn's requests, before its publish starts. */
  let gathering: Batch | undefined;

  function startAfterThisTurn(batch: Batch): void {
    gathering = batch;
    setImmediate(() => {
      gathering = undefined;
      start(batch);
    });
  }

  function start(batch: Batch): void {
    const request: PublishRequest = { ...(batch.services ? { services: [...batch.services] } : {}), ...(batch.groups ? { groups: [...batch.groups] } : {}) };
    running = publishSnapshots(deps, request).then(batch.resolve, batch.reject);
    void running.finally(() => {
      running = undefined;
      const waiting = next;
      next = undefined;
      if (waiting) start(waiting);
    });
  }

  return (request) => {
    const batch = gathering ?? next ?? newBatch();
    // undefined groups means every Envoy group: a batch asked for all stays all.
    if (request.groups === undefined) batch.groups = undefined;
    else for (const group of request.groups) batch.groups?.add(group);
    // Likewise undefined services means the whole registry.
    if (request.services === undefined) batch.services = undefined;
    else for (const service of request.services) batch.services?.add(service);
    if (batch === gathering) return batch.done;
    if (!running) startAfterThisTurn(batch);
    else next = batch;
    return batch.done;
  };
}

function newBatch(): Batch {
  let resolve!: (report: PublishReport) => void;
  let reject!: (error: unknown) => void;
  const done = new Promise<PublishReport>((ok, fail) => {
    resolve = ok;
    reject = fail;
  });
  return { groups: new Set(), services: new Set(), done, resolve, reject };
}
