/**
 * The TrafficRouter contract (shared/ports/traffic-router.ts), one body run against every router
 * on real proxies: traffic-router-haproxy.test.ts (real HAProxy processes) and
 * traffic-router-envoy.test.ts (the embedded store, crossfade's ADS server following it, and a
 * real proxyless gRPC client acknowledging). A rig says what differs between kinds: what a caller
 * writes before applySplit (Envoy publishes from the registry), how a proxy is made to drift, and
 * what "nothing touched" is read from. Proxies that pull their configuration converge after a
 * poll, so "converged" is waited for with a deadline; no timing is asserted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProxyGroup, Split } from '../../shared/domain/mesh.js';
import type { TrafficRouter, Verification, VersionEndpoints } from '../../shared/ports/traffic-router.js';
import { rejectionOf } from '../support/errors.js';

export const CONTRACT_SERVICE = 'echo';

export interface RouterRig {
  router: TrafficRouter;
  /** A group of the rig's kind whose proxies run. */
  group: ProxyGroup;
  /** A group of the rig's kind that lists no proxies. */
  emptyGroup: ProxyGroup;
  /** A group of another kind: the router must refuse it as a wiring bug. */
  otherKindGroup: ProxyGroup;
  /** CONTRACT_SERVICE's versions v1 and v2 and their endpoints. */
  backend: VersionEndpoints[];
  /** What the router's caller does before applySplit: Envoy's writes the split to the registry (the canary, a registration); HAProxy's nothing. */
  decide(split: Split): Promise<void>;
  /** Makes one proxy of `group` stop serving what applySplit put in (changed by hand, cut off from its configuration); its name. */
  drift(): Promise<string>;
  /** Undoes what keeps a drifted proxy from being repaired (Envoy: its server reads the store again); nothing for HAProxy. */
  reconnect(): Promise<void>;
  /** What the proxies of both groups are given, read without changing it: equal before and after means nothing was touched. */
  observe(): Promise<unknown>;
  stop(): Promise<void>;
}

/** Asks until `state`, or gives up after the deadline with the last answer (no timing is asserted). */
async function settlesTo(verify: () => Promise<Verification>, state: Verification['state'], deadlineMs = 20_000): Promise<Verification> {
  const giveUpAt = Date.now() + deadlineMs;
  for (;;) {
    const verification = await verify();
    if (verification.state === state || Date.now() > giveUpAt) return verification;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const laggingOf = (verification: Verification): string[] => (verification.state === 'pending' || verification.state === 'propagating' ? verification.lagging.map((l) => l.proxy) : []);

export function trafficRouterContract(kind: string, startRig: () => Promise<RouterRig>): void {
  describe(`TrafficRouter contract: ${kind}`, () => {
    let rig: RouterRig;
    beforeAll(async () => {
      rig = await startRig();
    }, 120_000);
    afterAll(() => rig?.stop());

    const apply = (split: Split, group = rig.group) => rig.router.applySplit(group, CONTRACT_SERVICE, rig.backend, split);
    const verify = (split: Split, group = rig.group) => rig.router.verifySplit(group, CONTRACT_SERVICE, rig.backend, split);

    it('verifySplit before any applySplit: pending, naming what lags', async () => {
      await rig.decide({ v1: 100, v2: 0 });
      const verification = await verify({ v1: 100, v2: 0 });
      expect(verification.state).toBe('pending');
      expect(laggingOf(verification).length).toBeGreaterThan(0);
    });

    it('applySplit then verifySplit: converged; a different split is not', async () => {
      await rig.decide({ v1: 90, v2: 10 });
      await apply({ v1: 90, v2: 10 });
      expect(await settlesTo(() => verify({ v1: 90, v2: 10 }), 'converged')).toEqual({ state: 'converged' });
      expect((await verify({ v1: 50, v2: 50 })).state).toBe('pending');
    });

    it('applySplit again changes nothing, and stays converged', async () => {
      const before = await rig.observe();
      await apply({ v1: 90, v2: 10 });
      expect(await rig.observe()).toEqual(before);
      expect(await verify({ v1: 90, v2: 10 })).toEqual({ state: 'converged' });
    });

    it('an invalid split, service or endpoint is a ValidationError naming the field, before any proxy is touched', async () => {
      const before = await rig.observe();
      expect(await rejectionOf(apply({ v1: 90, v2: 20 }))).toMatchObject({ name: 'ValidationError', field: 'weights', rule: 'split-sums-to-100' });
      expect(await rejectionOf(verify({ v1: 90, v2: 20 }))).toMatchObject({ name: 'ValidationError', rule: 'split-sums-to-100' });
      expect(await rejectionOf(rig.router.applySplit(rig.group, 'Not_A_Service', rig.backend, { v1: 100 }))).toMatchObject({ name: 'ValidationError', field: 'service' });
      const noEndpoints = rig.backend.map((b) => (b.version === 'v2' ? { ...b, endpoints: [] } : b));
      expect(await rejectionOf(rig.router.applySplit(rig.group, CONTRACT_SERVICE, noEndpoints, { v1: 50, v2: 50 }))).toMatchObject({ name: 'ValidationError', field: 'weights.v2', rule: 'version-has-endpoints' });
      const twice = rig.backend.map((b) => ({ ...b, endpoints: [...b.endpoints, ...b.endpoints] }));
      expect(await rejectionOf(rig.router.applySplit(rig.group, CONTRACT_SERVICE, twice, { v1: 90, v2: 10 }))).toMatchObject({ name: 'ValidationError', rule: 'endpoint-unique' });
      expect(await rig.observe()).toEqual(before);
    });

    it('a group of another kind is a wiring bug: InternalError', async () => {
      expect(await rejectionOf(apply({ v1: 90, v2: 10 }, rig.otherKindGroup))).toMatchObject({ name: 'InternalError' });
      expect(await rejectionOf(verify({ v1: 90, v2: 10 }, rig.otherKindGroup))).toMatchObject({ name: 'InternalError' });
    });

    it('a proxy that drifted is named, and applySplit repairs it', async () => {
      const split = { v1: 50, v2: 50 };
      await rig.decide(split);
      await apply(split);
      await settlesTo(() => verify(split), 'converged');
      const drifted = await rig.drift();
      const behind = await verify(split);
      expect(['pending', 'propagating']).toContain(behind.state);
      expect(laggingOf(behind)).toEqual([drifted]);

      await rig.reconnect();
      await apply(split);
      expect(await settlesTo(() => verify(split), 'converged')).toEqual({ state: 'converged' });
    });

    it('a group that lists no proxies: applySplit has nothing to refuse, verifySplit says unknown', async () => {
      await rig.decide({ v1: 90, v2: 10 });
      await apply({ v1: 90, v2: 10 }, rig.emptyGroup);
      const verification = await verify({ v1: 90, v2: 10 }, rig.emptyGroup);
      expect(verification).toMatchObject({ state: 'unknown', reason: expect.stringContaining(rig.emptyGroup.name) });
    });
  });
}
