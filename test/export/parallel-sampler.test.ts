import { describe, expect, it } from 'vitest';
import { parallelFieldSampler } from '../../src/export/parallel/parallel-sampler.js';
import { DEFAULT_FIELD_CONFIG } from '../../src/nerf/field/config.js';
import { FieldKernels, initParameters } from '../../src/nerf/field/field.js';
import { fittedFieldSampler } from '../../src/nerf/field/fitted-field.js';
import { createOccupancyGrid } from '../../src/nerf/render/occupancy.js';
import { createRandom as mulberry32 } from '../../src/core/random.js';
import type { FitState } from '../../src/nerf/train/fit.js';

/** An untrained field with random parameters: enough to compare two ways of evaluating it. */
function randomState(): FitState {
  const config = { ...DEFAULT_FIELD_CONFIG, encoding: { ...DEFAULT_FIELD_CONFIG.encoding, log2TableSize: 12 } };
  const kernels = new FieldKernels(config);
  const params = new Float32Array(kernels.layout.total);
  initParameters(kernels, mulberry32(7), params, 1);
  // Hash entries of ±1e-4 leave colour nearly constant; larger ones make directions matter.
  for (let i = 0; i < kernels.layout.encodingSize; i++) params[i] *= 5000;
  return {
    config, march: { stepSize: 0.01, maxSamples: 256, minTransmittance: 0.01 }, params, adamM: new Float32Array(0), adamV: new Float32Array(0),
    grid: createOccupancyGrid(8, config.boundsMin, config.boundsMax), step: 0, seconds: 0, seed: 0,
  };
}

describe('parallelFieldSampler', () => {
  it('gives the same density and colour as the fitted field on one thread, with and without view directions', async () => {
    const state = randomState();
    const local = fittedFieldSampler(state);
    const field = await parallelFieldSampler(state, { threads: 2, capacity: 1000 });
    try {
      const random = mulberry32(3);
      const n = 2500;
      const xyz = Float32Array.from({ length: n * 3 }, () => random() * 0.8 - 0.4);
      const directions = new Float32Array(n * 3);
      for (let i = 0; i < n; i++) {
        const d = [random() - 0.5, random() - 0.5, random() - 0.5];
        const length = Math.hypot(d[0], d[1], d[2]);
        for (let k = 0; k < 3; k++) directions[i * 3 + k] = d[k] / length;
      }
      const [a, b] = [new Float32Array(n), new Float32Array(n)];
      local.density(xyz, n, a);
      field.density(xyz, n, b);
      expect(b).toEqual(a);
      const [c, d, e, f] = [0, 1, 2, 3].map(() => new Float32Array(n * 3));
      local.color(xyz, n, c);
      field.color(xyz, n, d);
      expect(d).toEqual(c);
      local.color(xyz, n, e, directions);
      field.color(xyz, n, f, directions);
      expect(f).toEqual(e);
      expect(f).not.toEqual(d); // the directions were used
    } finally {
      await field.close();
    }
  });
});
