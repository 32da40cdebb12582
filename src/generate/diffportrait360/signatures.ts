/**
 * The graphs a DiffPortrait360 bundle holds and their inputs/outputs (diffportrait360.md §9.2–9.4).
 * This is the contract between the graph builder, the converter, the bundle validator and the
 * sampler: every graph file is checked against these signatures when a bundle is loaded.
 *
 * The frame batch of the ControlNet and UNet graphs is static: one temporal window
 * (motion.videoLength frames) for the orbit model, one frame for the back model. onnxruntime's
 * allocation planner is an order of magnitude slower on these ~3,000-node graphs when the batch is
 * a symbolic dimension (tiny orbit UNet: 0.6 s vs 4–10 s to create the session). 'N' is an image
 * batch (VAE). All float tensors are float32 at the graph boundary (fp16 bundles cast inside).
 */
import { type DiffPortrait360Config, latentSize } from './config.js';

export type ModelKind = 'back' | 'orbit';
export type GraphName =
  | 'vae_encoder'
  | 'vae_decoder'
  | 'clip_text'
  | 'appearance'
  | 'controlnet'
  | 'unet_cond'
  | 'unet_uncond';
export type TensorType = 'float32' | 'int64';
export type Dim = number | 'B' | 'N';

export interface TensorSignature {
  name: string;
  type: TensorType;
  shape: Dim[];
}

export interface GraphSignature {
  inputs: TensorSignature[];
  outputs: TensorSignature[];
}

/** Graphs per model; the VAE and CLIP graphs are built from each checkpoint's own weights. */
export const GRAPH_NAMES: readonly GraphName[] = [
  'vae_encoder',
  'vae_decoder',
  'clip_text',
  'appearance',
  'controlnet',
  'unet_cond',
  'unet_uncond',
];

/** Number of references whose banks the cond UNet reads: front only (back model), front ‖ back (orbit). */
export function referenceCount(model: ModelKind): number {
  return model === 'back' ? 1 : 2;
}

export interface BankEntry {
  /** Tokens of one reference at this block (h·w). */
  tokens: number;
  channels: number;
}

/** Channel width and resolution of every stored encoder skip (input block i, i = 0..11). */
function encoderSkips(config: DiffPortrait360Config): { channels: number; side: number }[] {
  const { modelChannels, channelMult, numResBlocks } = config.unet;
  let side = latentSize(config);
  const skips = [{ channels: modelChannels, side }];
  channelMult.forEach((mult, level) => {
    for (let r = 0; r < numResBlocks; r++) skips.push({ channels: modelChannels * mult, side });
    if (level !== channelMult.length - 1) {
      side /= 2;
      skips.push({ channels: modelChannels * mult, side });
    }
  });
  return skips;
}

/**
 * The 16 appearance-bank entries in write (= read) order: input blocks 1,2,4,5,7,8, the middle
 * block, output blocks 3..11 (diffportrait360.md §9.3).
 */
export function bankEntries(config: DiffPortrait360Config): BankEntry[] {
  const { modelChannels, channelMult, attentionResolutions, numResBlocks } = config.unet;
  const latent = latentSize(config);
  const entries: BankEntry[] = [];
  let ds = 1;
  channelMult.forEach((mult, level) => {
    for (let r = 0; r < numResBlocks; r++) {
      if (attentionResolutions.includes(ds)) entries.push({ tokens: (latent / ds) ** 2, channels: modelChannels * mult });
    }
    if (level !== channelMult.length - 1) ds *= 2;
  });
  entries.push({ tokens: (latent / ds) ** 2, channels: modelChannels * channelMult[channelMult.length - 1]! });
  for (let level = channelMult.length - 1; level >= 0; level--) {
    const mult = channelMult[level]!;
    for (let r = 0; r <= numResBlocks; r++) {
      if (attentionResolutions.includes(ds)) entries.push({ tokens: (latent / ds) ** 2, channels: modelChannels * mult });
    }
    if (level !== 0) ds /= 2;
  }
  return entries;
}

export const bankName = (i: number): string => `bank_${String(i).padStart(2, '0')}`;
export const controlName = (i: number): string => `ctrl_${String(i).padStart(2, '0')}`;
export const CONTROL_MIDDLE = 'ctrl_mid';

/** The 12 ControlNet skip residuals then the middle one, shapes without the batch. */
export function controlShapes(config: DiffPortrait360Config): { name: string; shape: [number, number, number] }[] {
  const skips = encoderSkips(config).map((s, i) => ({ name: controlName(i), shape: [s.channels, s.side, s.side] as [number, number, number] }));
  const last = skips[skips.length - 1]!.shape;
  const { modelChannels, channelMult } = config.unet;
  return [...skips, { name: CONTROL_MIDDLE, shape: [modelChannels * channelMult[channelMult.length - 1]!, last[1], last[2]] }];
}

/** Frames per ControlNet/UNet call: one temporal window (orbit) or the single back view. */
export function frameBatch(config: DiffPortrait360Config, model: ModelKind): number {
  return model === 'orbit' ? config.motion.videoLength : 1;
}

export function graphSignature(config: DiffPortrait360Config, model: ModelKind, graph: GraphName): GraphSignature {
  const latent = latentSize(config);
  const z = config.unet.latentChannels;
  const size = config.imageSize;
  const context: TensorSignature = { name: 'context', type: 'float32', shape: [1, config.clip.contextLength, config.unet.contextDim] };
  const frames = frameBatch(config, model);
  const x: TensorSignature = { name: 'x', type: 'float32', shape: [frames, z, latent, latent] };
  const timestep: TensorSignature = { name: 'timestep', type: 'int64', shape: [frames] };
  const eps: TensorSignature = { name: 'eps', type: 'float32', shape: [frames, z, latent, latent] };
  const nRef = referenceCount(model);
  switch (graph) {
    case 'vae_encoder':
      return {
        inputs: [{ name: 'image', type: 'float32', shape: ['N', 3, size, size] }],
        outputs: [
          { name: 'mean', type: 'float32', shape: ['N', config.vae.zChannels, latent, latent] },
          { name: 'logvar', type: 'float32', shape: ['N', config.vae.zChannels, latent, latent] },
        ],
      };
    case 'vae_decoder':
      return {
        inputs: [{ name: 'latent', type: 'float32', shape: ['N', config.vae.zChannels, latent, latent] }],
        outputs: [{ name: 'image', type: 'float32', shape: ['N', 3, size, size] }],
      };
    case 'clip_text':
      return {
        inputs: [{ name: 'input_ids', type: 'int64', shape: [1, config.clip.contextLength] }],
        outputs: [{ name: 'last_hidden_state', type: 'float32', shape: [1, config.clip.contextLength, config.clip.width] }],
      };
    case 'appearance':
      return {
        inputs: [
          { name: 'ref_latent', type: 'float32', shape: [1, z, latent, latent] },
          { name: 'timestep', type: 'int64', shape: [1] },
          context,
        ],
        outputs: bankEntries(config).map((e, i) => ({ name: bankName(i), type: 'float32', shape: [1, e.tokens, e.channels] })),
      };
    case 'controlnet':
      return {
        inputs: [x, { name: 'hint', type: 'float32', shape: [frames, 3, size, size] }, timestep, context],
        outputs: controlShapes(config).map((c) => ({ name: c.name, type: 'float32', shape: [frames, ...c.shape] })),
      };
    case 'unet_cond':
      return {
        inputs: [
          x,
          timestep,
          context,
          ...bankEntries(config).map((e, i): TensorSignature => ({ name: bankName(i), type: 'float32', shape: [1, nRef * e.tokens, e.channels] })),
          ...controlShapes(config).map((c): TensorSignature => ({ name: c.name, type: 'float32', shape: [frames, ...c.shape] })),
        ],
        outputs: [eps],
      };
    case 'unet_uncond':
      return { inputs: [x, timestep, context], outputs: [eps] };
  }
}
