/**
 * Deterministic randomness for the tie guard. The domain is pure (docs/architecture.md: randomness
 * comes in as an argument), and a judgment must be repeatable: a retried workflow task, or an
 * audit replaying a stored decision from its inputs, has to get the same answer. So the default
 * noise is a seeded generator whose seed is a hash of the metric's own name and data.
 */
import type { GaussianNoise } from './types.js';

/** mulberry32: a small, fast 32-bit PRNG; uniform in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** N(0, sigma) draws by the Box-Muller transform over `uniform`. */
export function gaussianNoise(uniform: () => number): GaussianNoise {
  let spare: number | null = null;
  return (sigma) => {
    if (spare !== null) {
      const value = spare;
      spare = null;
      return value * sigma;
    }
    const u1 = 1 - uniform(); // (0, 1]: log stays finite
    const u2 = uniform();
    const radius = Math.sqrt(-2 * Math.log(u1));
    spare = radius * Math.sin(2 * Math.PI * u2);
    return radius * Math.cos(2 * Math.PI * u2) * sigma;
  };
}

/** A 32-bit FNV-1a hash of a name and the exact bits of some series, as a seed. */
export function seedFrom(name: string, ...series: readonly (readonly number[])[]): number {
  let hash = 0x811c9dc5;
  const mix = (byte: number) => {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  };
  for (let i = 0; i < name.length; i++) {
    const code = name.charCodeAt(i);
    mix(code & 0xff);
    mix(code >>> 8);
  }
  const bits = new DataView(new ArrayBuffer(8));
  for (const values of series) {
    mix(0xff); // a separator, so ([1], [2]) and ([1, 2], []) differ
    for (const value of values) {
      bits.setFloat64(0, value);
      for (let k = 0; k < 8; k++) mix(bits.getUint8(k));
    }
  }
  return hash;
}

/** The default tie-guard noise for one metric: seeded from its name and cleaned series. */
export function seededNoiseFor(name: string, control: readonly number[], experiment: readonly number[]): GaussianNoise {
  return gaussianNoise(mulberry32(seedFrom(name, control, experiment)));
}
