/**
 * Architecture of the DiffPortrait360 networks as data. The same builder code emits the full-size
 * model (SD1.5 layout, ../shared/docs/diffportrait360.md §1.2) and tiny random models of the same
 * structure (widths and heads shrunk, key names unchanged) for tests.
 */
export interface UNetConfig {
  /** Width of the first level (SD1.5: 320). Every width must be a multiple of 32 (GroupNorm(32)). */
  modelChannels: number;
  channelMult: readonly number[];
  /** Res blocks per level; must stay 2 (motion-module positions are hard-coded for 2). */
  numResBlocks: number;
  /** Attention at these downsampling factors (SD1.5: 1, 2, 4). */
  attentionResolutions: readonly number[];
  numHeads: number;
  /** Width of the text context (CLIP-L: 768). */
  contextDim: number;
  latentChannels: number;
}

export interface MotionConfig {
  numHeads: number;
  /** Frames per temporal window (fixed at 8 in the released model). */
  videoLength: number;
  /** Rows of the stored sinusoidal position table (24). */
  maxLength: number;
}

export interface VaeConfig {
  ch: number;
  chMult: readonly number[];
  numResBlocks: number;
  zChannels: number;
}

export interface ClipTextConfig {
  width: number;
  layers: number;
  heads: number;
  vocabSize: number;
  contextLength: number;
}

export interface DiffPortrait360Config {
  /** A name written into bundles: 'full', 'tiny' or 'micro'. */
  name: string;
  /** Side of the RGB images (512 full size); latents are imageSize / 8. */
  imageSize: number;
  unet: UNetConfig;
  motion: MotionConfig;
  vae: VaeConfig;
  clip: ClipTextConfig;
}

export const FULL_CONFIG: DiffPortrait360Config = {
  name: 'full',
  imageSize: 512,
  unet: {
    modelChannels: 320,
    channelMult: [1, 2, 4, 4],
    numResBlocks: 2,
    attentionResolutions: [4, 2, 1],
    numHeads: 8,
    contextDim: 768,
    latentChannels: 4,
  },
  motion: { numHeads: 8, videoLength: 8, maxLength: 24 },
  vae: { ch: 128, chMult: [1, 2, 4, 4], numResBlocks: 2, zChannels: 4 },
  clip: { width: 768, layers: 12, heads: 12, vocabSize: 49408, contextLength: 77 },
};

/** The tiny configuration of diffportrait360-reference-on-cpu.md §4 (same key names as the full model). */
export const TINY_CONFIG: DiffPortrait360Config = {
  name: 'tiny',
  imageSize: 64,
  unet: {
    modelChannels: 32,
    channelMult: [1, 2, 4, 4],
    numResBlocks: 2,
    attentionResolutions: [4, 2, 1],
    numHeads: 2,
    contextDim: 32,
    latentChannels: 4,
  },
  motion: { numHeads: 4, videoLength: 8, maxLength: 24 },
  vae: { ch: 32, chMult: [1, 2, 4, 4], numResBlocks: 2, zChannels: 4 },
  clip: { width: 32, layers: 2, heads: 2, vocabSize: 49408, contextLength: 77 },
};

/**
 * The smallest configuration the official code builds: TINY_CONFIG with the levels 32, 32, 64, 64
 * wide (the last level runs at 1×1 and GroupNorm(32) needs two values per group there) and a
 * 32-wide VAE. The committed checkpoints of test/fixtures/dp360/micro are of this size
 * (scripts/reference/make_micro_checkpoint.py).
 */
export const MICRO_CONFIG: DiffPortrait360Config = {
  ...TINY_CONFIG,
  name: 'micro',
  unet: { ...TINY_CONFIG.unet, channelMult: [1, 1, 2, 2] },
  vae: { ...TINY_CONFIG.vae, chMult: [1, 1, 1, 1] },
};

export function latentSize(config: DiffPortrait360Config): number {
  return config.imageSize / 8;
}
