import { describe, expect, it } from 'vitest';
import { fillHoles } from '../../src/generate/preprocess/fill-holes.js';
import { boxMean, fastGuidedFilter, guidedFilter } from '../../src/generate/preprocess/guided-filter.js';
import { faceCoverage, rasterizePolygon } from '../../src/generate/preprocess/head-prior-matte.js';
import { upsampleMask } from '../../src/generate/preprocess/matte.js';
import { relativeMaxError } from '../helpers/numeric.js';

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

function randomGuide(width: number, height: number, seed: number) {
  const next = random(seed);
  const data = new Uint8Array(width * height * 4).map((_, i) => (i % 4 === 3 ? 255 : Math.floor(next() * 256)));
  return { width, height, data };
}

/** Solves the 3×3 system A x = b by Gaussian elimination with partial pivoting (float64). */
function solve3(A: number[][], b: number[]): number[] {
  const m = A.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < 3; c++) {
    let pivot = c;
    for (let r = c + 1; r < 3; r++) if (Math.abs(m[r][c]) > Math.abs(m[pivot][c])) pivot = r;
    [m[c], m[pivot]] = [m[pivot], m[c]];
    for (let r = c + 1; r < 3; r++) {
      const f = m[r][c] / m[c][c];
      for (let k = c; k < 4; k++) m[r][k] -= f * m[c][k];
    }
  }
  const x = [0, 0, 0];
  for (let r = 2; r >= 0; r--) {
    let s = m[r][3];
    for (let k = r + 1; k < 3; k++) s -= m[r][k] * x[k];
    x[r] = s / m[r][r];
  }
  return x;
}

/**
 * The guided filter straight from its definition, in float64: for every window (clamped at the
 * borders) the ridge regression p ≈ a·I + b over the window's pixels, then each output pixel
 * averages a·I + b over the windows that contain it.
 */
function guidedFilterReference(guide: { width: number; height: number; data: Uint8Array }, input: Float32Array, radius: number, eps: number): Float64Array {
  const { width, height, data } = guide;
  const colour = (i: number) => [data[i * 4] / 255, data[i * 4 + 1] / 255, data[i * 4 + 2] / 255];
  const window = (x: number, y: number) => {
    const pixels: number[] = [];
    for (let v = Math.max(0, y - radius); v <= Math.min(height - 1, y + radius); v++) {
      for (let u = Math.max(0, x - radius); u <= Math.min(width - 1, x + radius); u++) pixels.push(v * width + u);
    }
    return pixels;
  };
  const coefficients: { a: number[]; b: number }[] = [];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const pixels = window(x, y);
      const n = pixels.length;
      const meanI = [0, 0, 0];
      let meanP = 0;
      for (const p of pixels) {
        const c = colour(p);
        for (let k = 0; k < 3; k++) meanI[k] += c[k] / n;
        meanP += input[p] / n;
      }
      const sigma = [[eps, 0, 0], [0, eps, 0], [0, 0, eps]];
      const cov = [0, 0, 0];
      for (const p of pixels) {
        const c = colour(p);
        for (let j = 0; j < 3; j++) {
          cov[j] += ((c[j] - meanI[j]) * (input[p] - meanP)) / n;
          for (let k = 0; k < 3; k++) sigma[j][k] += ((c[j] - meanI[j]) * (c[k] - meanI[k])) / n;
        }
      }
      const a = solve3(sigma, cov);
      coefficients.push({ a, b: meanP - a[0] * meanI[0] - a[1] * meanI[1] - a[2] * meanI[2] });
    }
  }
  const out = new Float64Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const c = colour(i);
      const windows = window(x, y); // the windows containing pixel i are those centred within r of it
      let sum = 0;
      for (const w of windows) sum += coefficients[w].a[0] * c[0] + coefficients[w].a[1] * c[1] + coefficients[w].a[2] * c[2] + coefficients[w].b;
      out[i] = sum / windows.length;
    }
  }
  return out;
}

describe('boxMean', () => {
  it('equals the window mean summed directly (float64), borders clamped', () => {
    const [width, height, radius] = [23, 17, 4];
    const next = random(3);
    const values = Float32Array.from({ length: width * height }, () => next() * 10 - 5);
    const direct = new Float64Array(width * height);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let sum = 0, count = 0;
        for (let v = Math.max(0, y - radius); v <= Math.min(height - 1, y + radius); v++) {
          for (let u = Math.max(0, x - radius); u <= Math.min(width - 1, x + radius); u++) {
            sum += values[v * width + u];
            count++;
          }
        }
        direct[y * width + x] = sum / count;
      }
    }
    expect(relativeMaxError(boxMean(values, width, height, radius), direct)).toBeLessThan(1e-6);
    // A radius larger than the image: every pixel gets the global mean.
    const global = values.reduce((a, b) => a + b, 0) / values.length;
    for (const v of boxMean(values, width, height, 40)) expect(v).toBeCloseTo(global, 5);
  });
});

describe('guidedFilter', () => {
  it('matches a float64 per-window ridge regression written from the definition', () => {
    const guide = randomGuide(19, 14, 7);
    const next = random(11);
    const input = Float32Array.from({ length: 19 * 14 }, () => next());
    for (const [radius, eps] of [[2, 1e-3], [3, 1e-2], [1, 1e-4]] as const) {
      const error = relativeMaxError(guidedFilter(guide, input, { radius, eps }), guidedFilterReference(guide, input, radius, eps));
      expect(error, `r ${radius} eps ${eps}`).toBeLessThan(2e-4);
    }
  });

  it('snaps a blurred step onto the guide’s colour edge', () => {
    // Guide: dark blue left of x = 20, orange from x = 20. Input: the same step blurred into a
    // ramp 12 px wide, as an upsampled low-resolution mask is.
    const [width, height] = [40, 12];
    const guide = { width, height, data: new Uint8Array(width * height * 4) };
    const input = new Float32Array(width * height);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const i = y * width + x;
        guide.data.set(x < 20 ? [30, 40, 120, 255] : [230, 140, 60, 255], i * 4);
        input[i] = Math.min(1, Math.max(0, (x + 0.5 - 14) / 12));
      }
    }
    const out = guidedFilter(guide, input, { radius: 8, eps: 1e-3 });
    const row = 6 * width;
    // Across the edge (x = 19 → 20) the ramp rises by 1/12; the filtered alpha jumps by over half,
    // from under ¼ to over ¾ (the filter keeps a gentle slope on either side).
    expect(input[row + 20] - input[row + 19]).toBeLessThan(0.1);
    expect(out[row + 20] - out[row + 19]).toBeGreaterThan(0.5);
    expect(out[row + 19]).toBeLessThan(0.25);
    expect(out[row + 20]).toBeGreaterThan(0.75);
  });

  it('fast variant: at the guide’s own size it is the guided filter; at half size it puts the edge in the same place', () => {
    const guide = randomGuide(19, 14, 5);
    const next = random(13);
    const input = Float32Array.from({ length: 19 * 14 }, () => next());
    const same = fastGuidedFilter(guide, { width: 19, height: 14, values: input }, { radius: 2, eps: 1e-3 });
    expect(relativeMaxError(same, guidedFilter(guide, input, { radius: 2, eps: 1e-3 }))).toBeLessThan(1e-5);

    // A diagonal colour edge at full size; the mask at half size, blurred over 6 px and 2 px off
    // the edge: the filtered alpha crosses ½ within a pixel of the colour edge on every row.
    const [width, height] = [64, 64];
    const edgeAt = (y: number) => 20 + 0.4 * y;
    const big = { width, height, data: new Uint8Array(width * height * 4) };
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) big.data.set(x + 0.5 < edgeAt(y + 0.5) ? [20, 30, 90, 255] : [240, 200, 150, 255], (y * width + x) * 4);
    const half = { width: 32, height: 32, values: new Float32Array(32 * 32) };
    for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) half.values[y * 32 + x] = Math.min(1, Math.max(0, ((x + 0.5) * 2 - edgeAt((y + 0.5) * 2) + 1) / 6));
    const out = fastGuidedFilter(big, half, { radius: 4, eps: 1e-3 });
    for (let y = 4; y < height - 4; y++) {
      let crossing = -1;
      for (let x = 1; x < width; x++) if (out[y * width + x - 1] < 0.5 && out[y * width + x] >= 0.5) crossing = x;
      expect(Math.abs(crossing - edgeAt(y + 0.5)), `row ${y}`).toBeLessThan(1);
    }
  });

  it('refuses an input of the wrong length', () => {
    expect(() => guidedFilter(randomGuide(4, 4, 1), new Float32Array(15), { radius: 1, eps: 1e-3 })).toThrow(/15 values for a 4×4 guide/);
  });
});

describe('fillHoles', () => {
  /** The definition by relaxation: f = v on the border, elsewhere f = max(v, min of the neighbours' f), iterated to a fixed point. */
  function fillHolesReference(values: Float32Array, width: number, height: number): Float64Array {
    const f = new Float64Array(width * height).fill(Infinity);
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) if (x === 0 || y === 0 || x === width - 1 || y === height - 1) f[y * width + x] = values[y * width + x];
    for (let changed = true; changed; ) {
      changed = false;
      for (let y = 1; y < height - 1; y++) {
        for (let x = 1; x < width - 1; x++) {
          const i = y * width + x;
          const next = Math.max(values[i], Math.min(f[i - 1], f[i + 1], f[i - width], f[i + width]));
          if (next < f[i]) {
            f[i] = next;
            changed = true;
          }
        }
      }
    }
    return f;
  }

  it('equals the relaxation definition on random fields (within one 1/255 level)', () => {
    for (const seed of [1, 2, 3]) {
      const next = random(seed);
      const [width, height] = [21, 16];
      const values = Float32Array.from({ length: width * height }, () => next());
      const filled = fillHoles(values, width, height);
      const reference = fillHolesReference(values, width, height);
      let worst = 0;
      for (let i = 0; i < filled.length; i++) worst = Math.max(worst, Math.abs(filled[i] - reference[i]));
      expect(worst).toBeLessThanOrEqual(1 / 255);
      expect(filled.some((v, i) => v > values[i] + 0.05)).toBe(true); // random fields have basins to fill
    }
  });

  it('fills a see-through badge inside a foreground blob and leaves open background alone', () => {
    const [width, height] = [30, 30];
    const values = new Float32Array(width * height);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const inBlob = Math.hypot(x - 15, y - 15) < 10;
        const inBadge = Math.hypot(x - 15, y - 13) < 3;
        values[y * width + x] = inBlob ? (inBadge ? 0.2 : 0.97) : 0.01;
      }
    }
    const filled = fillHoles(values, width, height);
    expect(filled[13 * width + 15]).toBeCloseTo(0.97, 2);
    expect(filled[2 * width + 2]).toBeCloseTo(0.01, 5);
  });
});

describe('upsampleMask', () => {
  it('reproduces a linear ramp between the outer pixel centres and keeps constants', () => {
    const mask = { width: 8, height: 4, values: new Float32Array(32) };
    for (let y = 0; y < 4; y++) for (let x = 0; x < 8; x++) mask.values[y * 8 + x] = 0.1 * x + 0.05 * y;
    const [width, height] = [32, 16];
    const out = upsampleMask(mask, width, height);
    for (let y = 2; y < height - 2; y++) {
      for (let x = 2; x < width - 2; x++) {
        // Output pixel centre (x + ½) maps to input coordinate (x + ½)·8/32 − ½.
        const [u, v] = [((x + 0.5) * 8) / 32 - 0.5, ((y + 0.5) * 4) / 16 - 0.5];
        expect(out[y * width + x]).toBeCloseTo(0.1 * u + 0.05 * v, 5);
      }
    }
    const flat = upsampleMask({ width: 3, height: 3, values: new Float32Array(9).fill(0.42) }, 10, 7);
    for (const v of flat) expect(v).toBeCloseTo(0.42, 6);
  });
});

describe('rasterizePolygon and faceCoverage', () => {
  it('fills a polygon with its area in pixels and measures alpha over it', () => {
    // A right triangle with legs 40: area 800 px².
    const triangle: [number, number][] = [[5, 5], [45, 5], [5, 45]];
    const inside = rasterizePolygon(triangle, 50, 50);
    const count = inside.reduce((a, b) => a + b, 0);
    expect(Math.abs(count - 800)).toBeLessThan(45); // one edge's worth of pixel centres
    const alpha = new Uint8Array(2500);
    for (let y = 0; y < 50; y++) for (let x = 0; x < 25; x++) alpha[y * 50 + x] = 255;
    // The part of the triangle left of x = 25: 800 − (20·20/2) = 600 of 800.
    expect(faceCoverage(alpha, triangle, 50, 50)).toBeCloseTo(0.75, 1);
  });
});
