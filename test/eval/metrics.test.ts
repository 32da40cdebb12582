import { describe, expect, it } from 'vitest';
import { Head3dError } from '../../src/core/errors.js';
import { type RgbaImage } from '../../src/core/image.js';
import {
  type PixelMask, type Rgb, WHITE, alphaUnionMask, compareImages, compositeOver, psnr, ssim,
} from '../../src/eval/metrics.js';

/** Deterministic pseudo-random numbers in [0,1) (a 32-bit xorshift), so failures reproduce. */
function random(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 2 ** 32;
  };
}

function image(width: number, height: number, pixel: (x: number, y: number) => [number, number, number, number]): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set(pixel(x, y), (y * width + x) * 4);
  }
  return { width, height, data };
}

/** Smooth gradients plus noise: enough structure that SSIM is neither 1 nor near 0. */
function texturedImage(width: number, height: number, seed: number, alpha: (x: number, y: number) => number = () => 255): RgbaImage {
  const rand = random(seed);
  const clamp = (v: number) => Math.max(0, Math.min(255, Math.round(v)));
  return image(width, height, (x, y) => [
    clamp(120 + 80 * Math.sin(x / 3) + 40 * rand()),
    clamp((255 * y) / height + 30 * (rand() - 0.5)),
    clamp(60 + 120 * ((x + y) % 5) / 5 + 20 * rand()),
    alpha(x, y),
  ]);
}

/** `source` with every channel value moved by `noise` (clamped to 0..255), alpha kept. */
function perturbed(source: RgbaImage, seed: number, amplitude: number): RgbaImage {
  const rand = random(seed);
  const data = source.data.slice();
  for (let i = 0; i < data.length; i++) {
    if (i % 4 !== 3) data[i] = Math.max(0, Math.min(255, data[i] + Math.round((rand() - 0.5) * 2 * amplitude)));
  }
  return { ...source, data };
}

// ---- Independent float64 references: direct loops over each 11×11 window, no separable filter. ----

/** One channel of the composite over `background`, as background + α·(colour − background). */
function referenceChannel(img: RgbaImage, channel: number, background: Rgb): number[] {
  const values: number[] = [];
  for (let p = 0; p < img.width * img.height; p++) {
    const alpha = img.data[p * 4 + 3] / 255;
    values.push(background[channel] + alpha * (img.data[p * 4 + channel] / 255 - background[channel]));
  }
  return values;
}

/** Wang et al.'s SSIM map of one channel at every pixel whose 11×11 window fits, keyed by pixel index. */
function referenceSsimMap(x: number[], y: number[], width: number, height: number): Map<number, number> {
  const c1 = 0.01 ** 2;
  const c2 = 0.03 ** 2;
  let total = 0;
  const weights: number[][] = [];
  for (let dy = -5; dy <= 5; dy++) {
    const row: number[] = [];
    for (let dx = -5; dx <= 5; dx++) {
      const w = Math.exp(-(dx * dx + dy * dy) / (2 * 1.5 * 1.5));
      row.push(w);
      total += w;
    }
    weights.push(row);
  }
  const map = new Map<number, number>();
  for (let cy = 5; cy < height - 5; cy++) {
    for (let cx = 5; cx < width - 5; cx++) {
      let muX = 0;
      let muY = 0;
      for (let dy = -5; dy <= 5; dy++) {
        for (let dx = -5; dx <= 5; dx++) {
          const w = weights[dy + 5][dx + 5] / total;
          const p = (cy + dy) * width + cx + dx;
          muX += w * x[p];
          muY += w * y[p];
        }
      }
      let varX = 0;
      let varY = 0;
      let cov = 0;
      for (let dy = -5; dy <= 5; dy++) {
        for (let dx = -5; dx <= 5; dx++) {
          const w = weights[dy + 5][dx + 5] / total;
          const p = (cy + dy) * width + cx + dx;
          varX += w * (x[p] - muX) ** 2;
          varY += w * (y[p] - muY) ** 2;
          cov += w * (x[p] - muX) * (y[p] - muY);
        }
      }
      const value = ((2 * muX * muY + c1) * (2 * cov + c2)) / ((muX ** 2 + muY ** 2 + c1) * (varX + varY + c2));
      map.set(cy * width + cx, value);
    }
  }
  return map;
}

function referenceSsim(a: RgbaImage, b: RgbaImage, options: { mask?: PixelMask; background?: Rgb } = {}): number {
  const background = options.background ?? [0, 0, 0];
  let sum = 0;
  let weight = 0;
  for (let c = 0; c < 3; c++) {
    const map = referenceSsimMap(referenceChannel(a, c, background), referenceChannel(b, c, background), a.width, a.height);
    for (const [p, value] of map) {
      const w = options.mask ? (options.mask instanceof Uint8Array ? Number(options.mask[p] !== 0) : options.mask[p]) : 1;
      sum += w * value;
      weight += w;
    }
  }
  return sum / weight;
}

// ---------------------------------------------------------------------------------------------

describe('ssim', () => {
  const width = 24;
  const height = 20;

  it('matches a direct float64 implementation of Wang et al. 2004', () => {
    const a = texturedImage(width, height, 1);
    for (const [seed, amplitude] of [[2, 4], [3, 30], [4, 120]]) {
      const b = perturbed(a, seed, amplitude);
      const expected = referenceSsim(a, b);
      expect(expected).toBeLessThan(1);
      expect(Math.abs(ssim(a, b) - expected)).toBeLessThan(1e-6);
    }
  });

  it('matches the reference on unrelated images and on RGBA composited over white', () => {
    const a = texturedImage(width, height, 5, (x, y) => ((x * 7 + y * 3) % 4) * 85);
    const b = texturedImage(width, height, 6, (x) => (x < 12 ? 255 : 0));
    expect(Math.abs(ssim(a, b) - referenceSsim(a, b))).toBeLessThan(1e-6);
    expect(Math.abs(ssim(a, b, { background: WHITE }) - referenceSsim(a, b, { background: WHITE }))).toBeLessThan(1e-6);
    expect(Math.abs(ssim(a, b, { background: WHITE }) - ssim(a, b))).toBeGreaterThan(1e-3);
  });

  it('is 1 for identical images', () => {
    const a = texturedImage(width, height, 7);
    expect(ssim(a, a)).toBeCloseTo(1, 12);
    const flat = image(16, 16, () => [90, 90, 90, 255]);
    expect(ssim(flat, flat)).toBeCloseTo(1, 12);
  });

  it('averages the map over a mask, matching the reference for boolean and weighted masks', () => {
    const a = texturedImage(width, height, 8);
    const b = perturbed(a, 9, 40);
    const boolean = new Uint8Array(width * height).map((_, p) => Number(p % width < 15 && Math.floor(p / width) > 6));
    const rand = random(10);
    const weights = new Float32Array(width * height).map(() => rand());
    expect(Math.abs(ssim(a, b, { mask: boolean }) - referenceSsim(a, b, { mask: boolean }))).toBeLessThan(1e-6);
    expect(Math.abs(ssim(a, b, { mask: weights }) - referenceSsim(a, b, { mask: weights }))).toBeLessThan(1e-6);
    const uniform = new Float32Array(width * height).fill(2);
    expect(ssim(a, b, { mask: uniform })).toBeCloseTo(ssim(a, b), 12);
  });

  it('ignores a corrupted region when the mask excludes it and its 5-pixel window reach', () => {
    const w = 40;
    const h = 32;
    const a = texturedImage(w, h, 11);
    const clean = perturbed(a, 12, 10);
    const corrupted = { ...clean, data: clean.data.slice() };
    const inCorruption = (x: number, y: number) => x >= 28 && y >= 20;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) if (inCorruption(x, y)) corrupted.data.set([255, 0, 255], (y * w + x) * 4);
    }
    const mask = new Uint8Array(w * h);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) mask[y * w + x] = Number(!(x >= 28 - 5 && y >= 20 - 5));

    expect(ssim(a, corrupted)).toBeLessThan(ssim(a, clean) - 0.01);
    expect(ssim(a, corrupted, { mask })).toBeCloseTo(ssim(a, clean, { mask }), 12);
  });

  it('returns NaN for an empty mask and refuses images smaller than the window', () => {
    const a = texturedImage(width, height, 13);
    expect(ssim(a, a, { mask: new Uint8Array(width * height) })).toBeNaN();
    const tiny = texturedImage(10, 30, 14);
    expect(() => ssim(tiny, tiny)).toThrow(Head3dError);
  });
});

describe('psnr', () => {
  it('matches hand-computed values for known errors', () => {
    const a = texturedImage(16, 12, 20);
    // Red raised by exactly 10 everywhere (texturedImage keeps red ≤ 240): MSE = (10/255)² / 3.
    const redShifted = { ...a, data: a.data.map((v, i) => (i % 4 === 0 ? v + 10 : v)) };
    expect(a.data.every((v, i) => i % 4 !== 0 || v <= 245)).toBe(true);
    expect(psnr(a, redShifted)).toBeCloseTo(32.90201615587573, 10); // 10·log10(3·255²/100)

    // Half the pixels off by 5 in every channel, alternately up and down: MSE = ½·(5/255)².
    const grey = image(16, 12, () => [100, 150, 200, 255]);
    const checker = image(16, 12, (x, y) => {
      if ((x + y) % 2 === 0) return [100, 150, 200, 255];
      const d = x % 4 === 1 ? 5 : -5;
      return [100 + d, 150 + d, 200 + d, 255];
    });
    expect(psnr(grey, checker)).toBeCloseTo(37.16170347859854, 10); // 10·log10(2·255²/25)
  });

  it('is Infinity for identical images', () => {
    const a = texturedImage(16, 12, 21);
    expect(psnr(a, a)).toBe(Infinity);
  });

  it('gives the clean value when the mask excludes a corrupted region', () => {
    const grey = image(20, 10, () => [100, 150, 200, 255]);
    const clean = image(20, 10, () => [104, 150, 200, 255]);
    const corrupted = image(20, 10, (x) => (x < 5 ? [0, 255, 0, 255] : [104, 150, 200, 255]));
    const mask = new Uint8Array(200).map((_, p) => Number(p % 20 >= 5));
    const cleanValue = 10 * Math.log10((3 * 255 ** 2) / 16);
    expect(psnr(grey, clean)).toBeCloseTo(cleanValue, 10);
    expect(psnr(grey, corrupted)).toBeLessThan(cleanValue - 10);
    expect(psnr(grey, corrupted, { mask })).toBeCloseTo(cleanValue, 10);
    expect(psnr(grey, corrupted, { mask: Float32Array.from(mask, (m) => m * 0.5) })).toBeCloseTo(cleanValue, 10);
  });

  it('compares composites: hidden colour under alpha 0 does not count', () => {
    const a = image(12, 12, () => [255, 0, 0, 0]);
    const b = image(12, 12, () => [0, 0, 255, 0]);
    expect(psnr(a, b)).toBe(Infinity);
    expect(psnr(a, b, { mask: alphaUnionMask(a, b) })).toBeNaN();
  });
});

describe('compositing and masks', () => {
  it('composites straight alpha over the background', () => {
    const img = image(3, 1, (x) => [[200, 100, 0, 255], [200, 100, 0, 0], [255, 0, 51, 51]][x] as [number, number, number, number]);
    const black = compositeOver(img);
    const white = compositeOver(img, WHITE);
    expect(Array.from(black.data.slice(0, 3))).toEqual([200 / 255, 100 / 255, 0]);
    expect(Array.from(black.data.slice(3, 6))).toEqual([0, 0, 0]);
    expect(Array.from(white.data.slice(3, 6))).toEqual([1, 1, 1]);
    expect(white.data[6]).toBeCloseTo(1, 12);
    expect(white.data[7]).toBeCloseTo(0.8, 12);
    expect(white.data[8]).toBeCloseTo(0.2 * 0.2 + 0.8, 12);
  });

  it('builds the union of both alphas', () => {
    const a = image(4, 1, (x) => [0, 0, 0, [0, 1, 0, 255][x]]);
    const b = image(4, 1, (x) => [0, 0, 0, [0, 0, 7, 255][x]]);
    expect(Array.from(alphaUnionMask(a, b))).toEqual([0, 1, 1, 1]);
  });

  it('compareImages agrees with psnr and ssim over the alpha-union mask', () => {
    const a = texturedImage(30, 26, 30, (x, y) => (x > 4 && x < 22 && y > 3 ? 255 : 0));
    const b = perturbed(texturedImage(30, 26, 30, (x, y) => (x > 6 && x < 24 && y > 3 ? 255 : 0)), 31, 20);
    const mask = alphaUnionMask(a, b);
    const result = compareImages(a, b, WHITE);
    expect(result.psnr).toBe(psnr(a, b, { background: WHITE }));
    expect(result.ssim).toBe(ssim(a, b, { background: WHITE }));
    expect(result.maskedPsnr).toBe(psnr(a, b, { background: WHITE, mask }));
    expect(result.maskedSsim).toBe(ssim(a, b, { background: WHITE, mask }));
    expect(result.maskCoverage).toBeCloseTo((19 * 22) / (30 * 26), 12);
  });
});

describe('size checks', () => {
  it('throws a Head3dError naming both sizes', () => {
    const a = texturedImage(24, 20, 40);
    const b = texturedImage(20, 24, 41);
    for (const call of [() => psnr(a, b), () => ssim(a, b), () => alphaUnionMask(a, b), () => compareImages(a, b)]) {
      expect(call).toThrow(Head3dError);
      expect(call).toThrow(/24×20.*20×24/);
    }
  });
});
