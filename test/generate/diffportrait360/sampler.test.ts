import { describe, expect, it } from 'vitest';
import { createNormal, createRandom, normalArray } from '../../../src/core/random.js';
import { DEFAULT_SAMPLER } from '../../../src/generate/diffportrait360/bundle-manifest.js';
import { ddimStep, guidedEpsilon, noisedLatent, posteriorSample } from '../../../src/generate/diffportrait360/sampler/ddim.js';
import { roundToFloat16 } from '../../../src/generate/diffportrait360/sampler/float16.js';
import { ddimSchedule, ddimTimesteps } from '../../../src/generate/diffportrait360/sampler/schedule.js';

/**
 * An independent float16 rounding: every finite positive binary16 value decoded from its bits,
 * then the nearest one by binary search, ties to the even bit pattern.
 */
const HALVES: { value: number; bits: number }[] = (() => {
  const list: { value: number; bits: number }[] = [];
  for (let bits = 0; bits < 0x7c00; bits++) {
    const exponent = bits >> 10;
    const mantissa = bits & 0x3ff;
    const value = exponent === 0 ? mantissa * 2 ** -24 : (1 + mantissa / 1024) * 2 ** (exponent - 15);
    list.push({ value, bits });
  }
  return list;
})();

function referenceHalf(x: number): number {
  if (Number.isNaN(x) || x === 0) return x;
  const sign = Math.sign(x);
  const m = Math.abs(x);
  const max = HALVES[HALVES.length - 1];
  if (m > max.value) {
    // Past 65504 the next "value" would be 65536 (= ∞); round to nearest with it as the even neighbour.
    return m >= 65520 ? sign * Infinity : sign * max.value;
  }
  let lo = 0;
  let hi = HALVES.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (HALVES[mid].value <= m) lo = mid;
    else hi = mid;
  }
  const a = HALVES[lo];
  const b = HALVES[hi];
  if (m === a.value) return sign * a.value;
  const da = m - a.value;
  const db = b.value - m;
  if (da < db) return sign * a.value;
  if (db < da) return sign * b.value;
  return sign * ((a.bits & 1) === 0 ? a.value : b.value);
}

describe('float16 rounding', () => {
  it('handles the edge cases', () => {
    expect(roundToFloat16(0)).toBe(0);
    expect(Object.is(roundToFloat16(-0), -0)).toBe(true);
    expect(roundToFloat16(Number.NaN)).toBeNaN();
    expect(roundToFloat16(Infinity)).toBe(Infinity);
    expect(roundToFloat16(-Infinity)).toBe(-Infinity);
    expect(roundToFloat16(1)).toBe(1);
    expect(roundToFloat16(0.1)).toBe(0.0999755859375);
    expect(roundToFloat16(65504)).toBe(65504);
    expect(roundToFloat16(65519.99)).toBe(65504);
    expect(roundToFloat16(65520)).toBe(Infinity);
    expect(roundToFloat16(-70000)).toBe(-Infinity);
    expect(roundToFloat16(2 ** -24)).toBe(2 ** -24); // smallest subnormal
    expect(roundToFloat16(2 ** -25)).toBe(0); // tie between 0 and 2^-24: even is 0
    expect(roundToFloat16(2 ** -25 * 1.0001)).toBe(2 ** -24);
    expect(roundToFloat16(3 * 2 ** -25)).toBe(2 ** -23); // tie: even mantissa
    expect(roundToFloat16(2 ** -14 - 2 ** -26)).toBe(2 ** -14); // subnormal rounds up to the smallest normal
    expect(roundToFloat16(1 + 2 ** -11)).toBe(1); // tie → even
    expect(roundToFloat16(1 + 3 * 2 ** -11)).toBe(1 + 2 ** -9); // tie → even
    expect(roundToFloat16(1 + 2 ** -11 + 2 ** -40)).toBe(1 + 2 ** -10);
    expect(roundToFloat16(2 - 2 ** -12)).toBe(2); // rounds up across a power of two
    expect(roundToFloat16(-0.998296)).toBe(-roundToFloat16(0.998296));
  });

  it('matches a table-based rounding on random and boundary values', () => {
    const random = createRandom(7);
    for (let i = 0; i < 20000; i++) {
      const x = (random() - 0.5) * 2 ** (Math.floor(random() * 44) - 26);
      expect(roundToFloat16(x)).toBe(referenceHalf(x));
    }
    for (let i = 0; i < HALVES.length - 1; i += 37) {
      const mid = (HALVES[i].value + HALVES[i + 1].value) / 2;
      for (const x of [mid, HALVES[i].value, mid * (1 + 2 ** -50), mid * (1 - 2 ** -50)]) expect(roundToFloat16(x)).toBe(referenceHalf(x));
    }
  });
});

/** The released schedule recomputed here in float64 with the table-based float16 rounding. */
function referenceSchedule(steps: number) {
  const n = 1000;
  const s0 = Math.sqrt(0.00085);
  const s1 = Math.sqrt(0.012);
  const exact: number[] = [];
  let p = 1;
  for (let t = 0; t < n; t++) {
    const root = t < n / 2 ? s0 + ((s1 - s0) / (n - 1)) * t : s1 - ((s1 - s0) / (n - 1)) * (n - 1 - t);
    p *= 1 - root * root;
    exact.push(p);
  }
  const half = exact.map(referenceHalf);
  const c = n / steps;
  const ts = Array.from({ length: steps }, (_, i) => i * c + 1);
  const rows = ts.map((t, i) => {
    const a = half[t];
    const aPrev = i === 0 ? half[0] : half[ts[i - 1]];
    const sqrtOneMinus = referenceHalf(Math.sqrt(referenceHalf(1 - a)));
    const sigma = 0.5 * Math.sqrt(referenceHalf(1 / referenceHalf(1 - a)) * (1 - aPrev) * (1 - a / aPrev));
    return { t, a, aPrev, sqrtOneMinus, sigma };
  });
  return { exact, half, rows: rows.reverse() };
}

describe('DDIM schedule', () => {
  const schedule = ddimSchedule(DEFAULT_SAMPLER);
  const reference = referenceSchedule(50);

  it('has timesteps 981 … 1 with the +1 offset', () => {
    expect(ddimTimesteps(50, 1000)).toEqual(Array.from({ length: 50 }, (_, i) => 1 + 20 * i));
    expect(schedule.steps.map((s) => s.timestep)).toEqual(Array.from({ length: 50 }, (_, i) => 981 - 20 * i));
    expect(schedule.steps[0].index).toBe(49);
    expect(schedule.steps[49].index).toBe(0);
    expect(ddimTimesteps(2, 1000)).toEqual([1, 501]);
    expect(() => ddimTimesteps(3, 1000)).toThrow(/divide/);
  });

  it('matches the documented values', () => {
    expect(schedule.alphasCumprod[1]).toBeCloseTo(0.998535, 6);
    expect(reference.exact[1]).toBeCloseTo(0.998296, 6);
    expect(schedule.steps[0].sqrtOneMinusAlpha).toBeCloseTo(0.9970703, 7);
    expect(Math.sqrt(1 - reference.exact[981])).toBeCloseTo(0.9971081, 7);
    expect(schedule.initialNoise.timestep).toBe(999);
    expect(schedule.initialNoise.sqrtAlpha).toBeCloseTo(0.0683, 3);
    expect(schedule.initialNoise.sqrtOneMinusAlpha).toBeCloseTo(0.9977, 3);
  });

  it('equals an independent float64 recomputation with float16 rounding', () => {
    for (let t = 0; t < 1000; t++) expect(schedule.alphasCumprod[t]).toBe(reference.half[t]);
    schedule.steps.forEach((step, i) => {
      const r = reference.rows[i];
      expect(step.timestep).toBe(r.t);
      expect(step.alpha).toBe(Math.fround(r.a));
      expect(step.alphaPrev).toBe(Math.fround(r.aPrev));
      expect(step.sqrtOneMinusAlpha).toBe(Math.fround(r.sqrtOneMinus));
      expect(step.sigma).toBe(Math.fround(r.sigma));
    });
    // The last step (t = 1) goes back to ᾱ[0], not to 1.
    expect(schedule.steps[49].alphaPrev).toBe(Math.fround(reference.half[0]));
  });

  it('differs from the naive float64 σ as the reference notes (≈5e-5)', () => {
    const naive = reference.rows.map((r) => 0.5 * Math.sqrt(((1 - r.aPrev) / (1 - r.a)) * (1 - r.a / r.aPrev)));
    const worst = Math.max(...naive.map((v, i) => Math.abs(v - schedule.steps[i].sigma)));
    expect(worst).toBeGreaterThan(1e-6);
    expect(worst).toBeLessThan(1e-3);
  });

  it('can run without float16 rounding', () => {
    const plain = ddimSchedule({ ...DEFAULT_SAMPLER, float16Schedule: false });
    expect(plain.alphasCumprod[1]).toBeCloseTo(0.998296, 6);
  });
});

describe('DDIM step', () => {
  const schedule = ddimSchedule(DEFAULT_SAMPLER);
  const n = 4 * 8 * 8;
  const x = normalArray(n, 1);
  const epsC = normalArray(n, 2);
  const epsU = normalArray(n, 3);
  const noise = normalArray(n, 4);

  it('applies classifier-free guidance', () => {
    const eps = guidedEpsilon(epsC, epsU, 3);
    for (let i = 0; i < n; i++) expect(eps[i]).toBeCloseTo(epsU[i] + 3 * (epsC[i] - epsU[i]), 5);
    const unit = guidedEpsilon(epsC, epsU, 1);
    for (let i = 0; i < n; i++) expect(unit[i]).toBeCloseTo(epsC[i], 6);
  });

  it('matches a float64 recomputation of x0 and x_prev at every step', () => {
    const eps = guidedEpsilon(epsC, epsU, 3);
    for (const p of [schedule.steps[0], schedule.steps[25], schedule.steps[49]]) {
      const { x: next, predX0 } = ddimStep(x, eps, p, noise);
      for (let i = 0; i < n; i++) {
        const x0 = (x[i] - p.sqrtOneMinusAlpha * eps[i]) / Math.sqrt(p.alpha);
        const prev = Math.sqrt(p.alphaPrev) * x0 + Math.sqrt(1 - p.alphaPrev - p.sigma ** 2) * eps[i] + p.sigma * noise[i];
        expect(Math.abs(predX0[i] - x0)).toBeLessThan(1e-5 * (1 + Math.abs(x0)));
        expect(Math.abs(next[i] - prev)).toBeLessThan(1e-5 * (1 + Math.abs(prev)));
      }
    }
  });

  it('is deterministic without noise when σ = 0', () => {
    const p = { ...schedule.steps[10], sigma: 0 };
    const a = ddimStep(x, epsC, p).x;
    expect(ddimStep(x, epsC, p).x).toEqual(a);
    expect(() => ddimStep(x, epsC, schedule.steps[10])).toThrow(/noise/);
  });

  it('noises a latent at t = 999 and samples the VAE posterior', () => {
    const z = normalArray(n, 5);
    const xt = noisedLatent(z, noise, schedule);
    expect(xt[3]).toBeCloseTo(schedule.initialNoise.sqrtAlpha * z[3] + schedule.initialNoise.sqrtOneMinusAlpha * noise[3], 6);
    const mean = new Float32Array([0.5, -1, 2]);
    const logvar = new Float32Array([0, -100, 100]);
    const e = new Float32Array([1, 1, 1]);
    const sample = posteriorSample(mean, logvar, e, 0.18215);
    expect(sample[0]).toBeCloseTo(0.18215 * 1.5, 6);
    expect(sample[1]).toBeCloseTo(0.18215 * (-1 + Math.exp(-15)), 6);
    expect(sample[2]).toBeCloseTo(0.18215 * (2 + Math.exp(10)), 1);
  });
});

describe('seeded normal noise', () => {
  it('is reproducible and standard normal', () => {
    expect(normalArray(100, 9)).toEqual(normalArray(100, 9));
    expect(normalArray(100, 9)).not.toEqual(normalArray(100, 10));
    const normal = createNormal(createRandom(3));
    let sum = 0;
    let squares = 0;
    const count = 200000;
    for (let i = 0; i < count; i++) {
      const v = normal();
      sum += v;
      squares += v * v;
    }
    expect(Math.abs(sum / count)).toBeLessThan(0.01);
    expect(Math.abs(squares / count - 1)).toBeLessThan(0.01);
  });
});
