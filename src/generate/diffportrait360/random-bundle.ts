/**
 * A complete model bundle with seeded random weights (`head3d models random`): the same graphs,
 * signatures and files as a converted bundle, for tests, benchmarks and checking a machine (memory,
 * speed, GPU) before the real checkpoints are at hand. Its outputs are noise; its hints are
 * synthetic renders (synthetic-hints.ts), recorded as such in the manifest.
 */
import sharp from 'sharp';
import { mixSeed } from '../../core/random.js';
import type { RgbaImage } from '../../core/image.js';
import { type BundlePrecision, type GraphFactory, type WrittenBundle, checkBundleOutput, writeBundle } from './bundle-writer.js';
import { type DiffPortrait360Config, FULL_CONFIG, TINY_CONFIG } from './config.js';
import { RandomWeights, type RandomWeightOptions } from './onnx/random-weights.js';
import type { ModelKind } from './signatures.js';
import { SYNTHETIC_HINTS_DESCRIPTION, renderSyntheticHints } from './synthetic-hints.js';

export type RandomBundleSize = 'tiny' | 'full';

/**
 * Weight scales per size: tiny as the CPU reference recipe (N(0, 0.2²), 1-D N(0, 0.05²));
 * full size 0.02 so that activations of the 2.7 B-parameter networks stay finite.
 */
export const RANDOM_WEIGHT_SCALES: Record<RandomBundleSize, Omit<RandomWeightOptions, 'seed'>> = {
  tiny: { std: 0.2, biasStd: 0.05 },
  full: { std: 0.02, biasStd: 0.02 },
};

/**
 * Weight scales of fp16 bundles: the tiny networks' activations with std 0.2 pass the float16
 * range (65504) inside the UNet and give NaN, so fp16 tiny bundles use std 0.1. Real checkpoints
 * run in fp16 in the released code.
 */
export const RANDOM_WEIGHT_SCALES_FP16: Record<RandomBundleSize, Omit<RandomWeightOptions, 'seed'>> = {
  tiny: { std: 0.1, biasStd: 0.05 },
  full: { std: 0.02, biasStd: 0.02 },
};

export const RANDOM_BUNDLE_DEFAULTS = { size: 'tiny' as RandomBundleSize, seed: 1 };

export interface RandomBundleOptions {
  /** 'tiny' (TINY_CONFIG, 64² images, about 220 MB in fp32) or 'full' (FULL_CONFIG, about 19 GB in fp32, 9.5 GB in fp16). Default tiny. */
  size?: RandomBundleSize;
  /** Seed of every weight (each model gets its own stream). Default 1. */
  seed?: number;
  /** The UNet-family graph builder (networks/graphs.ts buildGraph), injected. */
  unetGraphs: GraphFactory;
  force?: boolean;
  externalDataThreshold?: number;
  /** 'fp32' (default, CPU) or 'fp16' (CUDA); fp16 bundles use RANDOM_WEIGHT_SCALES_FP16. */
  precision?: BundlePrecision;
  onProgress?: (message: string) => void;
}

export function randomBundleConfig(size: RandomBundleSize): DiffPortrait360Config {
  return size === 'full' ? FULL_CONFIG : TINY_CONFIG;
}

/** An opaque RGB PNG of an RGBA image (alpha dropped, as PIL's convert('RGB')). */
export async function encodeRgbPng(image: RgbaImage): Promise<Uint8Array> {
  const png = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 4 } })
    .removeAlpha()
    .png({ compressionLevel: 6 })
    .toBuffer();
  return new Uint8Array(png.buffer, png.byteOffset, png.byteLength);
}

/**
 * Writes a random bundle to `out`.
 *
 * @example
 * const { buildGraph } = await import('./networks/graphs.js');
 * await writeRandomBundle('/tmp/dp360-tiny', { size: 'tiny', seed: 7, unetGraphs: buildGraph });
 */
export async function writeRandomBundle(out: string, options: RandomBundleOptions): Promise<WrittenBundle> {
  const size = options.size ?? RANDOM_BUNDLE_DEFAULTS.size;
  const seed = options.seed ?? RANDOM_BUNDLE_DEFAULTS.seed;
  const config = randomBundleConfig(size);
  const scales = (options.precision === 'fp16' ? RANDOM_WEIGHT_SCALES_FP16 : RANDOM_WEIGHT_SCALES)[size];
  const weightsOf = (model: ModelKind): RandomWeights => new RandomWeights({ seed: mixSeed(seed, model === 'back' ? 1 : 2), ...scales });
  checkBundleOutput(out, options.force);
  options.onProgress?.(`models: rendering ${config.imageSize}² synthetic hints`);
  const hints = await Promise.all(renderSyntheticHints({ size: config.imageSize }).map(encodeRgbPng));
  return writeBundle(out, {
    config,
    weights: { back: weightsOf('back'), orbit: weightsOf('orbit') },
    unetGraphs: options.unetGraphs,
    hints,
    hintSource: SYNTHETIC_HINTS_DESCRIPTION,
    source: { kind: 'random', seed },
    ...(options.externalDataThreshold !== undefined ? { externalDataThreshold: options.externalDataThreshold } : {}),
    ...(options.precision !== undefined ? { precision: options.precision } : {}),
    ...(options.force !== undefined ? { force: options.force } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
}
