/*
 * Image quality metrics between two RGBA renders.
 *
 * What is compared: both images are first composited over the same constant background (black
 * unless told otherwise) with their straight alpha, in 8-bit sRGB values scaled to [0,1] — the
 * colours a viewer would see on that background, not linear light. PSNR and SSIM then run on the
 * three RGB channels with a data range of 1; alpha itself is not compared except through the
 * composite.
 */
import { Head3dError } from '../core/errors.js';
import { type RgbaImage } from '../core/image.js';

/** An RGB colour with channels in [0,1]. */
export type Rgb = readonly [number, number, number];

export const BLACK: Rgb = [0, 0, 0];
export const WHITE: Rgb = [1, 1, 1];

/** An RGB image with float channels in [0,1], interleaved row-major. */
export interface RgbFloatImage {
  width: number;
  height: number;
  data: Float64Array;
}

/**
 * Per-pixel weights restricting a metric: a `Uint8Array` is read as booleans (non-zero = in), a
 * `Float32Array` as non-negative weights. Length is width × height.
 */
export type PixelMask = Uint8Array | Float32Array;

export interface MetricOptions {
  /** Restricts the metric to these pixels (see `PixelMask`). */
  mask?: PixelMask;
  /** Colour both images are composited over before comparing; black by default. */
  background?: Rgb;
}

/** SSIM constants of Wang et al. 2004: 11×11 Gaussian window with σ = 1.5, K1 = 0.01, K2 = 0.03. */
export const SSIM_WINDOW_RADIUS = 5;
export const SSIM_WINDOW_SIGMA = 1.5;
export const SSIM_K1 = 0.01;
export const SSIM_K2 = 0.03;
const DATA_RANGE = 1;
const C1 = (SSIM_K1 * DATA_RANGE) ** 2;
const C2 = (SSIM_K2 * DATA_RANGE) ** 2;
const WINDOW_SIZE = 2 * SSIM_WINDOW_RADIUS + 1;

/** Straight-alpha `image` over a constant `background`: c·α + bg·(1 − α), in [0,1] sRGB values. */
export function compositeOver(image: RgbaImage, background: Rgb = BLACK): RgbFloatImage {
  const pixels = image.width * image.height;
  const src = image.data;
  const data = new Float64Array(pixels * 3);
  const [backR, backG, backB] = background;
  for (let p = 0; p < pixels; p++) {
    const alpha = src[p * 4 + 3] / 255;
    const scale = alpha / 255;
    const behind = 1 - alpha;
    data[p * 3] = src[p * 4] * scale + backR * behind;
    data[p * 3 + 1] = src[p * 4 + 1] * scale + backG * behind;
    data[p * 3 + 2] = src[p * 4 + 2] * scale + backB * behind;
  }
  return { width: image.width, height: image.height, data };
}

/** 1 where either image has alpha > 0, else 0: the pixels that show something in at least one render. */
export function alphaUnionMask(a: RgbaImage, b: RgbaImage): Uint8Array {
  assertSameSize(a, b);
  const pixels = a.width * a.height;
  const mask = new Uint8Array(pixels);
  for (let p = 0; p < pixels; p++) mask[p] = a.data[p * 4 + 3] > 0 || b.data[p * 4 + 3] > 0 ? 1 : 0;
  return mask;
}

/** Fraction of the image a mask covers (mean weight for float masks). */
export function maskCoverage(mask: PixelMask): number {
  if (mask.length === 0) return 0;
  let sum = 0;
  for (let p = 0; p < mask.length; p++) sum += maskWeight(mask, p);
  return sum / mask.length;
}

/**
 * Peak signal-to-noise ratio in dB: 10·log10(1 / MSE), the MSE taken over the three channels of
 * every (masked) pixel. Identical images give `Infinity`; an empty mask gives `NaN`.
 */
export function psnr(a: RgbaImage, b: RgbaImage, options: MetricOptions = {}): number {
  assertSameSize(a, b);
  return psnrOfComposites(compositeOver(a, options.background), compositeOver(b, options.background), options.mask);
}

/**
 * Mean structural similarity (Wang et al. 2004) with an 11×11 Gaussian window (σ = 1.5), K1 = 0.01,
 * K2 = 0.03 and population (not sample) statistics, per RGB channel, averaged over the channels.
 *
 * Borders: the SSIM map is computed only where the whole window fits inside the image (the
 * original paper's "valid" filtering, the region scikit-image averages over after its crop), so a
 * W×H image yields a (W−10)×(H−10) map. With a mask the result is the mask-weighted mean of that
 * map; the map at a pixel depends on its 11×11 neighbourhood, so differences up to 5 pixels
 * outside the mask still count. An empty mask gives `NaN`.
 */
export function ssim(a: RgbaImage, b: RgbaImage, options: MetricOptions = {}): number {
  assertSameSize(a, b);
  const map = ssimMap(compositeOver(a, options.background), compositeOver(b, options.background));
  return meanOverMask(map, options.mask, a.width);
}

/** All four numbers `head3d compare` reports for one pair of images. */
export interface ImageComparison {
  width: number;
  height: number;
  psnr: number;
  ssim: number;
  /** PSNR over the alpha-union mask. */
  maskedPsnr: number;
  /** SSIM map averaged over the alpha-union mask. */
  maskedSsim: number;
  /** Fraction of pixels in the alpha-union mask. */
  maskCoverage: number;
}

/** PSNR and SSIM, plain and over the alpha-union mask, compositing and filtering each image once. */
export function compareImages(a: RgbaImage, b: RgbaImage, background: Rgb = BLACK): ImageComparison {
  assertSameSize(a, b);
  const compositeA = compositeOver(a, background);
  const compositeB = compositeOver(b, background);
  const mask = alphaUnionMask(a, b);
  const map = ssimMap(compositeA, compositeB);
  return {
    width: a.width,
    height: a.height,
    psnr: psnrOfComposites(compositeA, compositeB),
    ssim: meanOverMask(map, undefined, a.width),
    maskedPsnr: psnrOfComposites(compositeA, compositeB, mask),
    maskedSsim: meanOverMask(map, mask, a.width),
    maskCoverage: maskCoverage(mask),
  };
}

/** SSIM per pixel of the valid region, averaged over the RGB channels. */
export interface SsimMap {
  /** Width and height of the map: the image size minus 10. */
  width: number;
  height: number;
  data: Float64Array;
}

/** The SSIM map over the valid region; images must be at least 11×11. */
export function ssimMap(a: RgbFloatImage, b: RgbFloatImage): SsimMap {
  assertSameSize(a, b);
  const { width, height } = a;
  if (width < WINDOW_SIZE || height < WINDOW_SIZE) {
    throw new Head3dError(`SSIM needs images of at least ${WINDOW_SIZE}×${WINDOW_SIZE} pixels, not ${width}×${height}`);
  }
  const mapWidth = width - 2 * SSIM_WINDOW_RADIUS;
  const mapHeight = height - 2 * SSIM_WINDOW_RADIUS;
  const map = new Float64Array(mapWidth * mapHeight);
  const x = new Float64Array(width * height);
  const y = new Float64Array(width * height);
  const moments = new WindowMoments(width, height);
  for (let c = 0; c < 3; c++) {
    for (let p = 0; p < width * height; p++) {
      x[p] = a.data[p * 3 + c];
      y[p] = b.data[p * 3 + c];
    }
    moments.compute(x, y);
    const { meanX, meanY, meanXX, meanYY, meanXY } = moments;
    for (let p = 0; p < map.length; p++) {
      const mx = meanX[p];
      const my = meanY[p];
      const varX = meanXX[p] - mx * mx;
      const varY = meanYY[p] - my * my;
      const covXY = meanXY[p] - mx * my;
      const value = ((2 * mx * my + C1) * (2 * covXY + C2)) / ((mx * mx + my * my + C1) * (varX + varY + C2));
      map[p] += value / 3;
    }
  }
  return { width: mapWidth, height: mapHeight, data: map };
}

/**
 * Gaussian-weighted window means of x, y, x², y² and xy over the valid region, by a separable
 * filter: a horizontal pass into a scratch buffer, then a vertical pass.
 */
class WindowMoments {
  readonly meanX: Float64Array;
  readonly meanY: Float64Array;
  readonly meanXX: Float64Array;
  readonly meanYY: Float64Array;
  readonly meanXY: Float64Array;
  private readonly xx: Float64Array;
  private readonly yy: Float64Array;
  private readonly xy: Float64Array;
  private readonly rows: Float64Array;
  private readonly validWidth: number;
  private readonly validHeight: number;

  constructor(private readonly width: number, private readonly height: number) {
    this.validWidth = width - 2 * SSIM_WINDOW_RADIUS;
    this.validHeight = height - 2 * SSIM_WINDOW_RADIUS;
    const valid = () => new Float64Array(this.validWidth * this.validHeight);
    this.meanX = valid();
    this.meanY = valid();
    this.meanXX = valid();
    this.meanYY = valid();
    this.meanXY = valid();
    this.xx = new Float64Array(width * height);
    this.yy = new Float64Array(width * height);
    this.xy = new Float64Array(width * height);
    this.rows = new Float64Array(this.validWidth * height);
  }

  compute(x: Float64Array, y: Float64Array): void {
    const { xx, yy, xy } = this;
    for (let p = 0; p < x.length; p++) {
      xx[p] = x[p] * x[p];
      yy[p] = y[p] * y[p];
      xy[p] = x[p] * y[p];
    }
    this.filter(x, this.meanX);
    this.filter(y, this.meanY);
    this.filter(xx, this.meanXX);
    this.filter(yy, this.meanYY);
    this.filter(xy, this.meanXY);
  }

  private filter(src: Float64Array, out: Float64Array): void {
    symmetricFilterValid(src, this.width, 1, this.rows, this.validWidth, this.height);
    symmetricFilterValid(this.rows, this.validWidth, this.validWidth, out, this.validWidth, this.validHeight);
  }
}

const WINDOW = gaussianKernel(SSIM_WINDOW_RADIUS, SSIM_WINDOW_SIGMA);

/**
 * Filters `src` (srcWidth wide) with the 11-tap SSIM window along `step` (1: rows, srcWidth:
 * columns), writing only outputs whose window lies inside `src`. The taps are unrolled and paired
 * by symmetry, which makes this several times faster than a loop over the kernel.
 */
function symmetricFilterValid(
  src: Float64Array, srcWidth: number, step: number,
  out: Float64Array, outWidth: number, outHeight: number,
): void {
  const [k0, k1, k2, k3, k4, k5] = WINDOW;
  const s1 = step, s2 = 2 * step, s3 = 3 * step, s4 = 4 * step, s5 = 5 * step;
  const s6 = 6 * step, s7 = 7 * step, s8 = 8 * step, s9 = 9 * step, s10 = 10 * step;
  for (let r = 0; r < outHeight; r++) {
    const srcRow = r * srcWidth;
    const outRow = r * outWidth;
    for (let col = 0; col < outWidth; col++) {
      const i = srcRow + col;
      out[outRow + col] =
        k0 * (src[i] + src[i + s10]) +
        k1 * (src[i + s1] + src[i + s9]) +
        k2 * (src[i + s2] + src[i + s8]) +
        k3 * (src[i + s3] + src[i + s7]) +
        k4 * (src[i + s4] + src[i + s6]) +
        k5 * src[i + s5];
    }
  }
}

/** A 1-D Gaussian of 2·radius+1 taps, normalised to sum 1. */
export function gaussianKernel(radius: number, sigma: number): Float64Array {
  const kernel = new Float64Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) {
    kernel[i + radius] = Math.exp(-(i * i) / (2 * sigma * sigma));
    sum += kernel[i + radius];
  }
  for (let i = 0; i < kernel.length; i++) kernel[i] /= sum;
  return kernel;
}

function psnrOfComposites(a: RgbFloatImage, b: RgbFloatImage, mask?: PixelMask): number {
  const pixels = a.width * a.height;
  if (mask) assertMaskFits(mask, pixels);
  let squaredError = 0;
  let weight = 0;
  for (let p = 0; p < pixels; p++) {
    const w = mask ? maskWeight(mask, p) : 1;
    if (w === 0) continue;
    let pixelError = 0;
    for (let c = 0; c < 3; c++) {
      const d = a.data[p * 3 + c] - b.data[p * 3 + c];
      pixelError += d * d;
    }
    squaredError += w * pixelError;
    weight += w * 3;
  }
  if (weight === 0) return NaN;
  const mse = squaredError / weight;
  return mse === 0 ? Infinity : 10 * Math.log10((DATA_RANGE * DATA_RANGE) / mse);
}

/** Mean of the SSIM map, weighted by the mask's values at the matching image pixels. */
function meanOverMask(map: SsimMap, mask: PixelMask | undefined, imageWidth: number): number {
  if (mask) assertMaskFits(mask, imageWidth * (map.height + 2 * SSIM_WINDOW_RADIUS));
  let sum = 0;
  let weight = 0;
  for (let r = 0; r < map.height; r++) {
    const maskRow = (r + SSIM_WINDOW_RADIUS) * imageWidth + SSIM_WINDOW_RADIUS;
    for (let col = 0; col < map.width; col++) {
      const w = mask ? maskWeight(mask, maskRow + col) : 1;
      if (w === 0) continue;
      sum += w * map.data[r * map.width + col];
      weight += w;
    }
  }
  return weight === 0 ? NaN : sum / weight;
}

function maskWeight(mask: PixelMask, p: number): number {
  return mask instanceof Uint8Array ? (mask[p] !== 0 ? 1 : 0) : mask[p];
}

function assertMaskFits(mask: PixelMask, pixels: number): void {
  if (mask.length !== pixels) throw new RangeError(`mask has ${mask.length} entries for an image of ${pixels} pixels`);
  if (mask instanceof Float32Array && !mask.every((w) => w >= 0 && Number.isFinite(w))) {
    throw new RangeError('mask weights must be finite and ≥ 0');
  }
}

function assertSameSize(a: { width: number; height: number }, b: { width: number; height: number }): void {
  if (a.width !== b.width || a.height !== b.height) {
    throw new Head3dError(`cannot compare images of different sizes: ${a.width}×${a.height} and ${b.width}×${b.height}`, {
      hint: 'render or resize both to the same size',
    });
  }
}
