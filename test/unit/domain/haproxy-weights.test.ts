/** A split laid onto HAProxy server weights (shared/domain/haproxy-weights.ts). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Split } from '../../../shared/domain/mesh.js';
import { HAPROXY_MAX_WEIGHT, serverWeightsFor, type VersionedServer } from '../../../shared/domain/haproxy-weights.js';
import { validationErrorOf } from '../../support/errors.js';

/** `count` servers of `version`, named `<version>-01`, `<version>-02`, … so name order is numeric order. */
function serversOf(version: string, count: number): VersionedServer[] {
  return Array.from({ length: count }, (_, i) => ({ server: `${version}-${String(i + 1).padStart(2, '0')}`, version }));
}

/** The weights of one version's servers, in name order. */
function weightsOf(weights: Map<string, number>, version: string): number[] {
  return [...weights.entries()]
    .filter(([server]) => server.startsWith(`${version}-`))
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([, weight]) => weight);
}

const sum = (values: number[]): number => values.reduce((total, value) => total + value, 0);

/** A copy of `items` in an order drawn from `seed` (Fisher-Yates with a linear congruential generator). */
function shuffle<T>(items: readonly T[], seed: number): T[] {
  const copy = [...items];
  let state = seed >>> 0;
  for (let i = copy.length - 1; i > 0; i--) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    const j = state % (i + 1);
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

describe('serverWeightsFor', () => {
  it.each([
    { why: 'the canary step of issue 3: weights read as percents', split: { v1: 90, v2: 10 }, counts: { v1: 2, v2: 2 }, v1: [45, 45], v2: [5, 5] },
    { why: 'the next step', split: { v1: 50, v2: 50 }, counts: { v1: 2, v2: 2 }, v1: [25, 25], v2: [25, 25] },
    { why: 'a rollback: the version at 0% keeps its servers at weight 0', split: { v1: 100, v2: 0 }, counts: { v1: 2, v2: 2 }, v1: [50, 50], v2: [0, 0] },
    { why: 'three servers each: scale 3 makes both totals divide evenly', split: { v1: 90, v2: 10 }, counts: { v1: 3, v2: 3 }, v1: [90, 90, 90], v2: [10, 10, 10] },
    { why: 'one server each: the percents themselves', split: { v1: 33, v2: 67 }, counts: { v1: 1, v2: 1 }, v1: [33], v2: [67] },
    { why: '1% against 50 baseline servers is exact and even (scale 50)', split: { v1: 99, v2: 1 }, counts: { v1: 50, v2: 1 }, v1: Array(50).fill(99), v2: [50] },
    {
      why: 'no even scale fits under 256: the finest scale (15), the remainder to the first servers by name',
      split: { v1: 50, v2: 50 },
      counts: { v1: 3, v2: 7 },
      v1: [250, 250, 250],
      v2: [108, 107, 107, 107, 107, 107, 107],
    },
    {
      why: 'a total smaller than the server count: the share stays exact, some servers idle',
      split: { v1: 99, v2: 1 },
      counts: { v1: 1, v2: 50 },
      v1: [198],
      v2: [1, 1, ...Array(48).fill(0)],
    },
  ])('$why', ({ split, counts, v1, v2 }) => {
    const weights = serverWeightsFor(split, [...serversOf('v1', counts.v1), ...serversOf('v2', counts.v2)]);

    expect(weightsOf(weights, 'v1')).toEqual(v1);
    expect(weightsOf(weights, 'v2')).toEqual(v2);
    expect(sum(v1) * split.v2).toBe(sum(v2) * split.v1); // the ratio of the totals is the ratio of the percents
  });

  it('three versions with 1, 2 and 3 servers: one scale for all (3)', () => {
    const weights = serverWeightsFor({ v1: 70, v2: 20, v3: 10 }, [...serversOf('v1', 1), ...serversOf('v2', 2), ...serversOf('v3', 3)]);

    expect(Object.fromEntries(weights)).toEqual({ 'v1-01': 210, 'v2-01': 30, 'v2-02': 30, 'v3-01': 10, 'v3-02': 10, 'v3-03': 10 });
  });

  it('servers of a version the split does not name get weight 0', () => {
    const weights = serverWeightsFor({ v1: 100 }, [...serversOf('v1', 1), ...serversOf('v9', 2)]);

    expect(Object.fromEntries(weights)).toEqual({ 'v1-01': 100, 'v9-01': 0, 'v9-02': 0 });
  });

  it('the remainder follows server names, not the order servers are listed in', () => {
    const servers = serversOf('v2', 7);
    const listed = serverWeightsFor({ v1: 50, v2: 50 }, [...serversOf('v1', 3), ...servers]);
    const reversed = serverWeightsFor({ v1: 50, v2: 50 }, [...servers].reverse().concat(serversOf('v1', 3)));

    expect(Object.fromEntries(reversed)).toEqual(Object.fromEntries(listed));
    expect(listed.get('v2-01')).toBe(108);
  });

  describe('refuses', () => {
    it.each([
      { why: 'a split that does not sum to 100', split: { v1: 90, v2: 9 }, field: 'weights', rule: 'split-sums-to-100' },
      { why: 'a percent above 100', split: { v1: 101 }, field: 'weights.v1', rule: 'percent' },
      { why: 'a negative percent', split: { v1: 100, v2: -10 }, field: 'weights.v2', rule: 'percent' },
      { why: 'a fractional percent', split: { v1: 89.5, v2: 10.5 }, field: 'weights.v1', rule: 'percent' },
      { why: 'an empty split', split: {}, field: 'weights', rule: 'split-not-empty' },
      { why: 'a share for a version without servers, naming it', split: { v1: 90, v3: 10 }, field: 'weights.v3', rule: 'version-has-endpoints' },
    ])('$why', ({ split, field, rule }) => {
      const error = validationErrorOf(() => serverWeightsFor(split as Split, [...serversOf('v1', 2), ...serversOf('v2', 2)]));

      expect(error).toMatchObject({ field, rule });
    });

    it('a server listed twice', () => {
      const error = validationErrorOf(() => serverWeightsFor({ v1: 100 }, [{ server: 's', version: 'v1' }, { server: 's', version: 'v1' }]));

      expect(error).toMatchObject({ field: 'servers', rule: 'server-unique' });
    });
  });

  it('property: totals proportional to percents, every weight 0..256, a version spread within 1, order-independent', () => {
    const splitAndServers = fc
      .array(fc.integer({ min: 0, max: 100 }), { maxLength: 3 })
      .map((cuts) => {
        const bounds = [0, ...cuts.sort((a, b) => a - b), 100];
        return bounds.slice(1).map((bound, i) => bound - bounds[i]!);
      })
      .chain((percents) =>
        fc.tuple(
          fc.constant(percents),
          fc.tuple(...percents.map((percent) => fc.integer({ min: percent > 0 ? 1 : 0, max: 80 }))),
        ),
      );

    fc.assert(
      fc.property(splitAndServers, fc.integer(), ([percents, counts], seed) => {
        const split = Object.fromEntries(percents.map((percent, i) => [`v${i}`, percent]));
        const servers = percents.flatMap((_, i) => serversOf(`v${i}`, counts[i]!));
        const weights = serverWeightsFor(split, servers);
        const all = sum([...weights.values()]);

        for (const weight of weights.values()) {
          expect(Number.isInteger(weight) && weight >= 0 && weight <= HAPROXY_MAX_WEIGHT).toBe(true);
        }
        percents.forEach((percent, i) => {
          const ofVersion = weightsOf(weights, `v${i}`);
          expect(sum(ofVersion) * 100).toBe(percent * all);
          if (ofVersion.length > 0) expect(Math.max(...ofVersion) - Math.min(...ofVersion)).toBeLessThanOrEqual(1);
        });
        expect(Object.fromEntries(serverWeightsFor(split, shuffle(servers, seed)))).toEqual(Object.fromEntries(weights));
      }),
      { numRuns: 500 },
    );
  });
});
