/**
 * The on-disk layout of a DiffPortrait360 model bundle (what `head3d models convert` and
 * `head3d models random` write and `head3d generate --models` reads):
 *
 *   <bundle>/manifest.json        this structure
 *   <bundle>/graphs/<model>_<graph>.onnx (+ .onnx.data external weights when large; unet_uncond
 *                                    references unet_cond's .onnx.data: the same weights, stored once)
 *   <bundle>/hints/00.png … 31.png   the 32 camera-hint images (sphere32), RGB
 *   <bundle>/context_<model>.bin     CLIP-L("") last_hidden_state, float32 little-endian [1,77,D]
 */
import type { DiffPortrait360Config } from './config.js';
import type { GraphName, GraphSignature, ModelKind } from './signatures.js';

export const BUNDLE_FORMAT = 'head3d-diffportrait360-bundle';
export const BUNDLE_VERSION = 1;
export const MANIFEST_FILE = 'manifest.json';

export interface BundleFile {
  /** Path relative to the bundle folder, '/'-separated. */
  file: string;
  sha256: string;
  bytes: number;
}

export interface BundleGraph extends BundleFile {
  model: ModelKind;
  graph: GraphName;
  /** The ONNX external-data file that holds this graph's weights, when it has one (may be another graph's: SHARED_WEIGHTS). */
  externalData?: BundleFile;
  signature: GraphSignature;
}

export interface SamplerConstants {
  steps: number;
  eta: number;
  guidanceScale: number;
  latentScale: number;
  betaStart: number;
  betaEnd: number;
  trainTimesteps: number;
  /** Noise level of the optional 3D-aware initial noise (the released code uses 999). */
  initialNoiseTimestep: number;
  /** Hint frame of the back-view stage (16 = 180°). */
  backHintFrame: number;
  /** ᾱ rounded to float16 before deriving DDIM parameters, as the released code does. */
  float16Schedule: boolean;
}

export const DEFAULT_SAMPLER: SamplerConstants = {
  steps: 50,
  eta: 0.5,
  guidanceScale: 3,
  latentScale: 0.18215,
  betaStart: 0.00085,
  betaEnd: 0.012,
  trainTimesteps: 1000,
  initialNoiseTimestep: 999,
  backHintFrame: 16,
  float16Schedule: true,
};

export type BundleSource =
  | { kind: 'random'; seed: number }
  | { kind: 'converted'; back: { file: string; sha256: string }; orbit: { file: string; sha256: string } };

export interface BundleManifest {
  format: typeof BUNDLE_FORMAT;
  version: number;
  config: DiffPortrait360Config;
  /** Compute precision of the runtime graphs (their inputs and outputs are float32 either way). */
  precision: 'fp32' | 'fp16';
  source: BundleSource;
  /** Runtime graphs keyed `${model}/${graph}` (clip_text is used at conversion only and not kept). */
  graphs: Record<string, BundleGraph>;
  /** CLIP-L("") per model, float32 [1, contextLength, contextDim]. */
  contexts: Record<ModelKind, BundleFile & { shape: number[] }>;
  /** The 32 camera-hint images in orbit order. */
  hints: BundleFile[];
  /** Where the hints come from (the released sphere32 images, or synthetic renders in random bundles). */
  hintSource?: string;
  sampler: SamplerConstants;
}

export const graphKey = (model: ModelKind, graph: GraphName): string => `${model}/${graph}`;
export const graphFileName = (model: ModelKind, graph: GraphName): string => `graphs/${model}_${graph}.onnx`;
