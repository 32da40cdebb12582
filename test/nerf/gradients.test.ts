import { describe, expect, it } from 'vitest';
import type { FieldConfig } from '../../src/nerf/field/config.js';
import { FieldKernels } from '../../src/nerf/field/field.js';
import { compositeBackward, compositeForward } from '../../src/nerf/render/volume.js';
import { createRandom } from '../../src/core/random.js';

const config: FieldConfig = {
  // Level resolutions 2, 5, 13: the first two are dense, the third hashes into 256 entries.
  encoding: { levels: 3, featuresPerLevel: 2, log2TableSize: 8, baseResolution: 2, finestResolution: 13 },
  densityHidden: [8],
  geometryFeatures: 4,
  colorHidden: [8, 6],
  shDegree: 3,
  boundsMin: [-1, -1, -1],
  boundsMax: [1, 1, 1],
};

/** Error relative to the larger magnitude, with an absolute floor for finite-difference noise on tiny gradients. */
function relativeError(a: number, b: number): number {
  return Math.abs(a - b) / (Math.max(Math.abs(a), Math.abs(b)) + 1e-4);
}

describe('field gradients match central finite differences (float64)', () => {
  const kernels = new FieldKernels(config);
  const random = createRandom(7);
  const params = new Float64Array(kernels.layout.total).map(() => random() * 2 - 1);
  const tape = new Float64Array(kernels.tapeStride);
  const scratch = new Float64Array(kernels.backwardScratchSize);

  it('lays out hashed and dense levels as configured', () => {
    expect(kernels.layout.levels.map((l) => l.dense)).toEqual([true, true, false]);
    expect(kernels.layout.levels[2].resolution).toBeGreaterThanOrEqual(12);
    expect(kernels.layout.levels[2].size).toBe(256);
  });

  for (let trial = 0; trial < 4; trial++) {
    it(`sample ${trial}: every parameter the sample touches`, () => {
      const u = [random(), random(), random()];
      const d = [random() - 0.5, random() - 0.5, random() - 0.5];
      const norm = Math.hypot(d[0], d[1], d[2]);
      const dir = d.map((v) => v / norm);
      // L = a·σ + b·rgb with random coefficients; a is small since σ = exp(·) is large-ish.
      const coefficients = [0.1 * (random() - 0.5), random() - 0.5, random() - 0.5, random() - 0.5];
      const loss = (p: Float64Array): number => {
        const sigma = kernels.forward(p, u[0], u[1], u[2], dir[0], dir[1], dir[2], tape, 0);
        return coefficients[0] * sigma + coefficients[1] * kernels.rgb(tape, 0, 0) + coefficients[2] * kernels.rgb(tape, 0, 1) + coefficients[3] * kernels.rgb(tape, 0, 2);
      };
      loss(params);
      const grads = new Float64Array(params.length);
      kernels.backward(params, grads, tape, 0, u[0], u[1], u[2], coefficients[0], coefficients[1], coefficients[2], coefficients[3], scratch);

      const h = 1e-6;
      let checked = 0;
      let hashChecked = 0;
      for (let i = 0; i < params.length; i++) {
        const saved = params[i];
        params[i] = saved + h;
        const up = loss(params);
        params[i] = saved - h;
        const down = loss(params);
        params[i] = saved;
        const numeric = (up - down) / (2 * h);
        if (numeric === 0 && grads[i] === 0) continue;
        expect(relativeError(grads[i], numeric), `parameter ${i}: analytic ${grads[i]} numeric ${numeric}`).toBeLessThan(1e-5);
        checked++;
        if (i < kernels.layout.encodingSize) hashChecked++;
      }
      // 3 levels × 8 corners × 2 features (some hashed corners may collide) plus the MLP weights.
      expect(hashChecked).toBeGreaterThanOrEqual(40);
      expect(checked).toBeGreaterThan(100);
    });
  }

  it('density() agrees with the full forward pass', () => {
    const densityScratch = new Float64Array(kernels.densityScratchSize);
    for (let k = 0; k < 10; k++) {
      const u = [random(), random(), random()];
      const full = kernels.forward(params, u[0], u[1], u[2], 0, 0, 1, tape, 0);
      expect(kernels.density(params, u[0], u[1], u[2], densityScratch)).toBeCloseTo(full, 12);
    }
  });
});

describe('volume compositing gradients match central finite differences', () => {
  it('for σ and colour of every sample, with a background and an opacity term', () => {
    const random = createRandom(11);
    const n = 9;
    const sigma = new Float64Array(n).map(() => random() * 30);
    const rgb = new Float64Array(n * 3).map(() => random());
    const delta = new Float64Array(n).map(() => 0.01 + random() * 0.05);
    const background = [0.2, 0.7, 0.4];
    const dColor = [random() - 0.5, random() - 0.5, random() - 0.5];
    const dOpacity = random() - 0.5;
    const out = new Float64Array(4);
    const weights = new Float64Array(n);
    const loss = (): number => {
      compositeForward(n, sigma, rgb, delta, background, out, weights);
      return dColor[0] * out[0] + dColor[1] * out[1] + dColor[2] * out[2] + dOpacity * out[3];
    };
    loss();
    const finalT = 1 - out[3];
    const dSigma = new Float64Array(n);
    const dRgb = new Float64Array(n * 3);
    compositeBackward(n, rgb, delta, background, weights, finalT, dColor, dOpacity, dSigma, dRgb);
    const h = 1e-6;
    const check = (array: Float64Array, analytic: Float64Array) => {
      for (let i = 0; i < array.length; i++) {
        const saved = array[i];
        array[i] = saved + h;
        const up = loss();
        array[i] = saved - h;
        const down = loss();
        array[i] = saved;
        expect(relativeError(analytic[i], (up - down) / (2 * h))).toBeLessThan(1e-5);
      }
    };
    check(sigma, dSigma);
    check(rgb, dRgb);
    expect(out[3]).toBeGreaterThan(0.3); // the test exercises real occlusion
  });
});
