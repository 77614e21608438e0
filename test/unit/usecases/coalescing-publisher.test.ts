/**
 * coalescingPublisher: requests made in one turn share the publish that starts after it; while a
 * publish runs, later requests share the next one, which starts after it and so reads every
 * registry write made before they asked.
 */
import { describe, expect, it } from 'vitest';
import type { ProxyGroup } from '../../../shared/domain/mesh.js';
import { coalescingPublisher } from '../../../shared/usecases/coalescing-publisher.js';
import type { XdsDeps } from '../../../shared/usecases/xds-deps.js';
import { fakeHttpDeps } from '../../support/fakes.js';
import { InMemoryPartStore } from '../../support/mesh-fakes.js';

/** Counts publishes by counting HEAD reads of one group (each publish reads every group's HEAD once). */
function countingDeps(): { deps: XdsDeps; heads: () => number } {
  const deps = fakeHttpDeps();
  const parts = new InMemoryPartStore();
  let reads = 0;
  const head = parts.head.bind(parts);
  parts.head = async (group: string) => {
    if (group === deps.proxyGroups.find((g) => g.kind === 'envoy')!.name) reads++;
    await new Promise((resolve) => setTimeout(resolve, 5));
    return head(group);
  };
  return { deps: { ...deps, parts }, heads: () => reads };
}

const SECOND_ENVOY_GROUP: ProxyGroup = { name: 'envoy-gcp-usc1', kind: 'envoy', cloud: 'gcp', region: 'us-central1', proxies: [] };

describe('coalescingPublisher', () => {
  it('one request alone publishes once', async () => {
    const { deps, heads } = countingDeps();
    const publish = coalescingPublisher(deps);
    const report = await publish({ services: ['checkout'] });
    expect(heads()).toBe(1);
    expect(report.groups.length).toBeGreaterThan(0);
  });

  it('requests made in one turn of the event loop share one publish of every group and service they name', async () => {
    const counting = countingDeps();
    const deps = { ...counting.deps, proxyGroups: [...counting.deps.proxyGroups, SECOND_ENVOY_GROUP] };
    const publish = coalescingPublisher(deps);
    const envoyGroups = deps.proxyGroups.filter((g) => g.kind === 'envoy').map((g) => g.name);
    const reports = await Promise.all(envoyGroups.map((group) => publish({ groups: [group], services: ['checkout'] })));
    expect(counting.heads()).toBe(1);
    expect(envoyGroups).toHaveLength(2);
    for (const report of reports) expect(report.groups.map((g) => g.group).sort()).toEqual([...envoyGroups].sort());
  });

  it('ten requests while one runs share one more publish: two in all, every caller answered', async () => {
    const { deps, heads } = countingDeps();
    const publish = coalescingPublisher(deps);
    const first = publish({ services: ['checkout'] });
    // The first publish starts once this turn ends; the ten ask while it runs.
    await new Promise((resolve) => setImmediate(resolve));
    const rest = Array.from({ length: 10 }, () => publish({ services: ['checkout'] }));
    const reports = await Promise.all([first, ...rest]);
    expect(heads()).toBe(2);
    expect(reports).toHaveLength(11);
    // The ten waited for the same publish.
    expect(new Set(rest.map((p) => p)).size).toBe(1);
  });

  it('a request after everything settled starts a new publish (nothing is skipped)', async () => {
    const { deps, heads } = countingDeps();
    const publish = coalescingPublisher(deps);
    await publish({ services: ['checkout'] });
    await publish({ services: ['checkout'] });
    expect(heads()).toBe(2);
  });

  it('a failed publish fails its callers and does not stop the next one', async () => {
    const { deps } = countingDeps();
    let fail = true;
    const head = deps.parts.head.bind(deps.parts);
    deps.parts.head = async (group: string) => {
      if (fail) throw new Error('store down');
      return head(group);
    };
    const publish = coalescingPublisher(deps);
    await expect(publish({ services: ['checkout'] })).rejects.toThrow('store down');
    fail = false;
    await expect(publish({ services: ['checkout'] })).resolves.toBeDefined();
  });
});
