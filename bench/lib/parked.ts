/**
 * Waiting for a created run to wait at its manual gate, as the benches that create deployments
 * do before they stop a stack (stopping it while a run's task still reads the embedded store ends
 * the process from inside the store) or send the next create. A run that ends anywhere but at its
 * gate is a failure of the scenario.
 */
import type { KeepAliveClient } from './http-client.js';

const ENDED = ['SUCCEEDED', 'ROLLED_BACK', 'FAILED', 'CANCELED'];

export type Parking = { parked: true } | { parked: false; timedOut: boolean; problem: string };

/** Polls `GET /v1/deployments/{id}` every `pollMs` until PAUSED, an end, or `deadline` (performance.now() ms). */
export async function untilParked(client: KeepAliveClient, id: string, deadline: number, pollMs: number): Promise<Parking> {
  for (;;) {
    const reply = await client.send('GET', `/v1/deployments/${encodeURIComponent(id)}`);
    const phase = reply.status === 200 ? (JSON.parse(reply.text) as { phase?: string }).phase : undefined;
    if (phase === 'PAUSED') return { parked: true };
    if (phase && ENDED.includes(phase)) return { parked: false, timedOut: false, problem: `deployment ${id} ended ${phase} instead of waiting at its gate` };
    if (performance.now() > deadline) return { parked: false, timedOut: true, problem: `deployment ${id} did not reach its gate in time (last: ${reply.status} ${phase ?? reply.text.slice(0, 80)})` };
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
