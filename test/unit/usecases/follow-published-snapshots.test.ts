/** PublishedSnapshotFollower (shared/usecases/follow-published-snapshots.ts): how a store that stops and starts answering is logged. */
import { describe, expect, it } from 'vitest';
import { DependencyUnavailableError } from '../../../shared/domain/errors.js';
import type { ProxyGroup } from '../../../shared/domain/mesh.js';
import { PublishedSnapshotFollower } from '../../../shared/usecases/follow-published-snapshots.js';
import { CapturingLogger } from '../../support/fakes.js';
import { InMemoryPartStore } from '../../support/mesh-fakes.js';

const groups: ProxyGroup[] = ['grpc-a', 'grpc-b'].map((name) => ({ name, kind: 'envoy', cloud: 'aws', region: 'us-east-1', proxies: [], xds: { api: 'ads' } }));
const unreachable = () => new DependencyUnavailableError('DynamoDB table crossfade', 'GetItem', { cause: new Error('connect ECONNREFUSED 127.0.0.1:40123') });

describe('PublishedSnapshotFollower, a store that cannot be read', () => {
  it('is logged once per group when its reads start failing, once when they succeed again, and not at every poll between', async () => {
    const parts = new InMemoryPartStore();
    const logger = new CapturingLogger();
    const follower = new PublishedSnapshotFollower({ parts, proxyGroups: groups, logger }, () => {});
    const pollWhileDown = async () => {
      parts.failNext('head', unreachable()).failNext('head', unreachable());
      expect((await follower.poll()).map((p) => p.outcome)).toEqual(['failed', 'failed']);
    };

    await follower.poll();
    for (let i = 0; i < 5; i++) await pollWhileDown();
    const down = logger.at('warn');
    await follower.poll();
    await follower.poll();
    await pollWhileDown();

    expect(down.map((line) => line.fields['group'])).toEqual(['grpc-a', 'grpc-b']);
    expect(down[0]!.fields['error']).toContain('ECONNREFUSED');
    expect(logger.at('info').filter((line) => line.message.includes('answers again')).map((line) => line.fields['group'])).toEqual(['grpc-a', 'grpc-b']);
    expect(logger.at('warn')).toHaveLength(4);
  });
});
