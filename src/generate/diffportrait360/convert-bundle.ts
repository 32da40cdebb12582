/**
 * Converts the two released DiffPortrait360 checkpoints (`back_head-230000.th`,
 * `model_state-340000.th`) into a model bundle (`head3d models convert`): each checkpoint is the
 * weight source of its model's graphs (initializer name = state-dict key), read tensor by tensor;
 * its keys are first checked against everything the architecture expects, as torch's strict
 * load_state_dict would, and the empty-prompt context is computed with the checkpoint's own CLIP.
 */
import { readdir } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { Head3dError, fileError } from '../../core/errors.js';
import { PANOHEAD_ORBIT_FRAMES } from '../../core/camera.js';
import { readImage, resizeImage } from '../../core/image.js';
import { sha256File } from './bundle.js';
import { type BundlePrecision, type GraphFactory, type WrittenBundle, checkBundleOutput, writeBundle } from './bundle-writer.js';
import { DEFAULT_SAMPLER } from './bundle-manifest.js';
import { type KeyShape, assertKeysMatch, compareKeys } from './checkpoint/keys.js';
import type { DiffPortrait360Config } from './config.js';
import { CLIP_POSITION_IDS_KEY, clipTextStateDictKeys } from './networks/clip-text.js';
import { vaeStateDictKeys } from './networks/vae.js';
import type { ParamSpec, WeightSource } from './onnx/graph-builder.js';
import { encodeRgbPng } from './random-bundle.js';
import type { ModelKind } from './signatures.js';

/** What the converter needs of a checkpoint (TorchCheckpoint fits; tests pass synthetic ones). */
export interface CheckpointSource {
  path: string;
  tensors: ReadonlyMap<string, { shape: readonly number[] }>;
  read(key: string): Promise<Float32Array>;
}

/** The UNet-family keys a model expects (networks/graphs.ts expectedStateDictKeys), injected. */
export type ExpectedKeys = (config: DiffPortrait360Config, model: ModelKind) => readonly KeyShape[];

/** DDPM schedule buffers every checkpoint holds (fp16 in this fork; logvar fp32); not used by any graph. */
export const DDPM_BUFFER_KEYS = [
  'betas',
  'alphas_cumprod',
  'alphas_cumprod_prev',
  'sqrt_alphas_cumprod',
  'sqrt_one_minus_alphas_cumprod',
  'log_one_minus_alphas_cumprod',
  'sqrt_recip_alphas_cumprod',
  'sqrt_recipm1_alphas_cumprod',
  'posterior_variance',
  'posterior_log_variance_clipped',
  'posterior_mean_coef1',
  'posterior_mean_coef2',
  'logvar',
] as const;

/** Every key and shape a checkpoint of `model` must hold: UNet family + VAE + CLIP (with position_ids) + DDPM buffers. */
export function expectedCheckpointKeys(config: DiffPortrait360Config, model: ModelKind, unetKeys: ExpectedKeys): KeyShape[] {
  const timesteps = DEFAULT_SAMPLER.trainTimesteps;
  return [
    ...unetKeys(config, model),
    ...vaeStateDictKeys(config).map((p) => ({ key: p.name, shape: p.shape })),
    ...clipTextStateDictKeys(config),
    ...DDPM_BUFFER_KEYS.map((key) => ({ key, shape: [timesteps] })),
  ];
}

/**
 * Checks a checkpoint against `model`'s expected keys and refuses it with a one-line list of the
 * missing, unexpected and mis-shaped keys; also checks that CLIP's position_ids are 0..L−1.
 */
export async function checkCheckpoint(checkpoint: CheckpointSource, config: DiffPortrait360Config, model: ModelKind, unetKeys: ExpectedKeys): Promise<void> {
  const actual = [...checkpoint.tensors].map(([key, info]) => ({ key, shape: info.shape }));
  const report = compareKeys(actual, expectedCheckpointKeys(config, model, unetKeys));
  assertKeysMatch(report, { what: `checkpoint ${checkpoint.path}`, model, limit: 5 });
  const ids = await checkpoint.read(CLIP_POSITION_IDS_KEY);
  if (!ids.every((v, i) => v === i)) {
    throw new Head3dError(`checkpoint ${checkpoint.path}: ${CLIP_POSITION_IDS_KEY} is not 0..${ids.length - 1}`, { hint: 'the CLIP text encoder in this checkpoint is not the standard one' });
  }
}

/** A WeightSource reading each initializer from the checkpoint by its state-dict key. */
export function checkpointWeights(checkpoint: CheckpointSource): WeightSource {
  return {
    read: async (spec: ParamSpec) => {
      if (!checkpoint.tensors.has(spec.name) && spec.buffer) return spec.buffer;
      const data = await checkpoint.read(spec.name);
      const shape = checkpoint.tensors.get(spec.name)!.shape;
      if (shape.join() !== spec.shape.join()) throw new Head3dError(`checkpoint ${checkpoint.path}: ${spec.name} is [${shape}], the graph needs [${spec.shape}]`);
      return data;
    },
  };
}

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.webp']);

/**
 * The 32 camera hints from a folder (the released `sphere32/0000000.png … 0000031.png`; any 32
 * images sorted by name), resized to the config's image size if needed, as RGB PNGs.
 */
export async function readHintFolder(dir: string, size: number): Promise<Uint8Array[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => IMAGE_EXTENSIONS.has(extname(n).toLowerCase())).sort();
  } catch (error) {
    throw fileError(error, dir, 'hint folder');
  }
  if (names.length !== PANOHEAD_ORBIT_FRAMES) {
    throw new Head3dError(`hint folder ${dir} holds ${names.length} images, expected ${PANOHEAD_ORBIT_FRAMES}`, {
      hint: 'pass the sphere32 folder of the released sample data (cam_condition/sphere32, 0000000.png … 0000031.png)',
    });
  }
  const hints: Uint8Array[] = [];
  for (const name of names) {
    let image = await readImage(join(dir, name), 'hint image');
    if (image.width !== size || image.height !== size) image = await resizeImage(image, size, size);
    hints.push(await encodeRgbPng(image));
  }
  return hints;
}

export interface ConvertBundleOptions {
  config: DiffPortrait360Config;
  checkpoints: Record<ModelKind, CheckpointSource>;
  /** Folder with the 32 hint images. */
  hintsDir: string;
  unetGraphs: GraphFactory;
  unetKeys: ExpectedKeys;
  force?: boolean;
  externalDataThreshold?: number;
  /** 'fp32' (default, CPU) or 'fp16' (CUDA). */
  precision?: BundlePrecision;
  /** Hash the checkpoint files for the manifest's source record (default true; GBs take a while). */
  hashCheckpoints?: boolean;
  onProgress?: (message: string) => void;
}

/**
 * Checks both checkpoints, then writes the bundle. Nothing is written when a check fails.
 *
 * @example
 * const back = await openCheckpoint('back_head-230000.th');
 * const orbit = await openCheckpoint('model_state-340000.th');
 * await convertBundle('models/dp360', { config: FULL_CONFIG, checkpoints: { back, orbit }, hintsDir: 'sphere32',
 *   unetGraphs: buildGraph, unetKeys: expectedStateDictKeys });
 */
export async function convertBundle(out: string, options: ConvertBundleOptions): Promise<WrittenBundle> {
  const { config, checkpoints } = options;
  const progress = options.onProgress ?? (() => {});
  checkBundleOutput(out, options.force);
  const hints = await readHintFolder(options.hintsDir, config.imageSize);
  for (const model of ['back', 'orbit'] as const) {
    progress(`models: checking the ${model} checkpoint's keys`);
    await checkCheckpoint(checkpoints[model], config, model, options.unetKeys);
  }
  const record = async (model: ModelKind): Promise<{ file: string; sha256: string }> => {
    const path = checkpoints[model].path;
    if (options.hashCheckpoints === false) return { file: path, sha256: '' };
    progress(`models: sha256 of ${path}`);
    return { file: path, sha256: await sha256File(path) };
  };
  const source = { kind: 'converted' as const, back: await record('back'), orbit: await record('orbit') };
  return writeBundle(out, {
    config,
    weights: { back: checkpointWeights(checkpoints.back), orbit: checkpointWeights(checkpoints.orbit) },
    unetGraphs: options.unetGraphs,
    hints,
    hintSource: `camera-condition images from ${options.hintsDir}`,
    source,
    ...(options.externalDataThreshold !== undefined ? { externalDataThreshold: options.externalDataThreshold } : {}),
    ...(options.precision !== undefined ? { precision: options.precision } : {}),
    ...(options.force !== undefined ? { force: options.force } : {}),
    onProgress: progress,
  });
}
