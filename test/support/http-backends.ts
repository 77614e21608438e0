/**
 * Small HTTP servers on 127.0.0.1 that answer every request with their id, standing in for a
 * version's pods behind HAProxy; and a bounded client that counts which id answered.
 */
import { Agent, createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Endpoint } from '../../shared/domain/mesh.js';

export interface HttpBackends {
  endpointOf(id: string): Endpoint;
  /** The id of the backend listening on `port`. */
  idAt(port: number): string;
  stop(): Promise<void>;
}

export async function startHttpBackends(ids: readonly string[]): Promise<HttpBackends> {
  const servers = new Map<string, Server>();
  for (const id of ids) {
    const server = createServer((_request, response) => response.end(id));
    // Longer than any test: HAProxy may reuse an idle connection, and a server closing it at that moment fails the request.
    server.keepAliveTimeout = 120_000;
    await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
    servers.set(id, server);
  }
  const portOf = (id: string): number => {
    const server = servers.get(id);
    if (!server) throw new Error(`no backend ${id}`);
    return (server.address() as AddressInfo).port;
  };
  return {
    endpointOf: (id) => ({ address: '127.0.0.1', port: portOf(id), zone: null }),
    idAt: (port) => [...servers.keys()].find((id) => portOf(id) === port) ?? `unknown:${port}`,
    stop: async () => {
      await Promise.all(
        [...servers.values()].map(
          (server) =>
            new Promise<void>((closed) => {
              server.closeAllConnections();
              server.close(() => closed());
            }),
        ),
      );
    },
  };
}

/**
 * Sends `count` GET requests to `http://127.0.0.1:<port>/`, at most `concurrency` at a time, and
 * counts the answers by body (the answering backend's id). Fails on any non-200 answer.
 */
export async function countAnswers(port: number, count: number, concurrency = 8): Promise<Record<string, number>> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const counts: Record<string, number> = {};
  let started = 0;
  const worker = async (): Promise<void> => {
    while (started < count) {
      started++;
      const body = await new Promise<string>((resolve, reject) => {
        get({ host: '127.0.0.1', port, path: '/', agent }, (response) => {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (text += chunk));
          response.on('end', () => (response.statusCode === 200 ? resolve(text) : reject(new Error(`HTTP ${response.statusCode}: ${text}`))));
        }).on('error', reject);
      });
      counts[body] = (counts[body] ?? 0) + 1;
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    agent.destroy();
  }
  return counts;
}
