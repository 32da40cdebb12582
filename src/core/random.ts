/** A small, fast, seedable generator (mulberry32): fits, samplings and tests must be reproducible for a seed. */
export function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Mixes several integers into one seed (so step, worker and purpose give independent streams). */
export function mixSeed(...values: number[]): number {
  let h = 0x9e3779b9;
  for (const v of values) {
    h = Math.imul(h ^ (v >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/**
 * Standard normal samples from a uniform generator (Box–Muller, both values of each pair used).
 *
 * @example
 * const normal = createNormal(createRandom(42));
 * const z = normal(); // ~ N(0, 1)
 */
export function createNormal(uniform: () => number): () => number {
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const value = spare;
      spare = undefined;
      return value;
    }
    const u1 = 1 - uniform(); // (0, 1]: log stays finite
    const u2 = uniform();
    const radius = Math.sqrt(-2 * Math.log(u1));
    spare = radius * Math.sin(2 * Math.PI * u2);
    return radius * Math.cos(2 * Math.PI * u2);
  };
}

/** `length` float32 samples of N(0, 1) from the stream seeded by `seed`. */
export function normalArray(length: number, seed: number): Float32Array {
  const normal = createNormal(createRandom(seed));
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = normal();
  return out;
}
