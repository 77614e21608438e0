import { describe, expect, it } from 'vitest';
import pkg from '../../package.json' with { type: 'json' };

describe('runtime', () => {
  it('runs the suite on Node 22, the version production runs (nodejs22.x, Cloud Functions nodejs22)', () => {
    expect(process.versions.node.split('.')[0]).toBe('22');
    expect(pkg.engines.node).toBe('>=22');
  });
});
