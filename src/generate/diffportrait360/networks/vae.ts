/**
 * The Stable Diffusion KL-f8 autoencoder (`first_stage_model`, ldm AutoencoderKL with the
 * `ldm/modules/diffusionmodules/model.py` Encoder and Decoder) as ONNX graphs:
 *
 * - `vae_encoder`: image [N,3,S,S] in [−1,1] → Encoder → quant_conv → (mean, logvar) [N,z,S/8,S/8],
 *   the raw moments: the [−30, 20] clamp of DiagonalGaussianDistribution and the sampling are done
 *   in TypeScript (sampler/ddim.ts posteriorSample);
 * - `vae_decoder`: latent [N,z,S/8,S/8] (already ÷ 0.18215) → post_quant_conv → Decoder → image.
 *
 * Architecture (ddconfig of SD1.5: ch 128, ch_mult 1,2,4,4, 2 res blocks, no attention in the
 * levels, z 4, double_z): GroupNorm(32, eps 1e-6), swish, ResnetBlocks with a 1×1 `nin_shortcut`
 * when the width changes, Downsample = pad (0,1,0,1) then a stride-2 3×3 conv without padding,
 * Upsample = nearest ×2 then a 3×3 conv, and a mid block with one single-head self-attention over
 * the H·W tokens (1×1 convs q, k, v, proj_out; scale C^−½). The decoder walks the levels in
 * reverse with num_res_blocks + 1 blocks each, stored as `up.{level}.block.{i}`.
 */
import type { DiffPortrait360Config, VaeConfig } from '../config.js';
import { GraphBuilder, type GraphBuilderOptions, type ParamSpec, type Value } from '../onnx/graph-builder.js';
import { attention, conv2d, groupNorm, silu } from '../onnx/layers.js';
import { graphSignature } from '../signatures.js';

export const VAE_PREFIX = 'first_stage_model';
const EPS = 1e-6;

function normSwish(g: GraphBuilder, x: Value, key: string, channels: number): Value {
  return silu(g, groupNorm(g, x, key, channels, EPS));
}

/** ResnetBlock without a timestep embedding (temb_channels 0). */
function resnetBlock(g: GraphBuilder, x: Value, key: string, inChannels: number, outChannels: number): Value {
  let h = conv2d(g, normSwish(g, x, `${key}.norm1`, inChannels), `${key}.conv1`, { inChannels, outChannels, kernel: 3 });
  h = conv2d(g, normSwish(g, h, `${key}.norm2`, outChannels), `${key}.conv2`, { inChannels: outChannels, outChannels, kernel: 3 });
  const shortcut = inChannels === outChannels ? x : conv2d(g, x, `${key}.nin_shortcut`, { inChannels, outChannels, kernel: 1 });
  return g.apply('Add', [shortcut, h], {}, 'resnet');
}

/** AttnBlock: single-head self-attention over the H·W positions, with a residual. */
function attnBlock(g: GraphBuilder, x: Value, key: string, channels: number): Value {
  const h = groupNorm(g, x, `${key}.norm`, channels, EPS);
  const tokens = (name: string): Value => {
    const projected = conv2d(g, h, `${key}.${name}`, { inChannels: channels, outChannels: channels, kernel: 1 });
    // [N, C, H, W] → [N, H·W, C]
    return g.apply('Transpose', [g.apply('Reshape', [projected, g.ints([0, channels, -1])])], { perm: [0, 2, 1] }, 'tokens');
  };
  const attended = attention(g, tokens('q'), tokens('k'), tokens('v'), { heads: 1, headDim: channels });
  // [N, H·W, C] → [N, C, H, W] (the spatial shape is taken from x).
  const spatial = g.apply('Reshape', [g.apply('Transpose', [attended], { perm: [0, 2, 1] }), g.apply('Shape', [x])], {}, 'attn_spatial');
  const out = conv2d(g, spatial, `${key}.proj_out`, { inChannels: channels, outChannels: channels, kernel: 1 });
  return g.apply('Add', [x, out], {}, 'attn_residual');
}

function downsample(g: GraphBuilder, x: Value, key: string, channels: number): Value {
  // torch.nn.functional.pad(x, (0,1,0,1)): one zero column on the right, one zero row at the bottom.
  const padded = g.apply('Pad', [x, g.ints([0, 0, 0, 0, 0, 0, 1, 1])], { mode: 'constant' }, 'pad');
  return conv2d(g, padded, `${key}.conv`, { inChannels: channels, outChannels: channels, kernel: 3, stride: 2, padding: 0 });
}

function upsample(g: GraphBuilder, x: Value, key: string, channels: number): Value {
  // interpolate(scale_factor=2, mode='nearest'): source index = floor(dst / 2).
  const resized = g.apply(
    'Resize',
    [x, null, g.constant([1, 1, 2, 2], [4], 'float32', 'scales')],
    { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' },
    'upsample',
  );
  return conv2d(g, resized, `${key}.conv`, { inChannels: channels, outChannels: channels, kernel: 3 });
}

function midBlock(g: GraphBuilder, x: Value, key: string, channels: number): Value {
  let h = resnetBlock(g, x, `${key}.block_1`, channels, channels);
  h = attnBlock(g, h, `${key}.attn_1`, channels);
  return resnetBlock(g, h, `${key}.block_2`, channels, channels);
}

/** Encoder → quant_conv: the 2·z moments [N, 2z, S/8, S/8]. */
export function vaeEncode(g: GraphBuilder, image: Value, vae: VaeConfig, prefix = VAE_PREFIX): Value {
  const { ch, chMult, numResBlocks, zChannels } = vae;
  const key = `${prefix}.encoder`;
  let h = conv2d(g, image, `${key}.conv_in`, { inChannels: 3, outChannels: ch, kernel: 3 });
  let blockIn = ch;
  chMult.forEach((mult, level) => {
    const blockOut = ch * mult;
    for (let i = 0; i < numResBlocks; i++) {
      h = resnetBlock(g, h, `${key}.down.${level}.block.${i}`, blockIn, blockOut);
      blockIn = blockOut;
    }
    if (level !== chMult.length - 1) h = downsample(g, h, `${key}.down.${level}.downsample`, blockIn);
  });
  h = midBlock(g, h, `${key}.mid`, blockIn);
  h = conv2d(g, normSwish(g, h, `${key}.norm_out`, blockIn), `${key}.conv_out`, { inChannels: blockIn, outChannels: 2 * zChannels, kernel: 3 });
  return conv2d(g, h, `${prefix}.quant_conv`, { inChannels: 2 * zChannels, outChannels: 2 * zChannels, kernel: 1 });
}

/** post_quant_conv → Decoder: the image [N, 3, S, S] (not clamped). */
export function vaeDecode(g: GraphBuilder, latent: Value, vae: VaeConfig, prefix = VAE_PREFIX): Value {
  const { ch, chMult, numResBlocks, zChannels } = vae;
  const key = `${prefix}.decoder`;
  const z = conv2d(g, latent, `${prefix}.post_quant_conv`, { inChannels: zChannels, outChannels: zChannels, kernel: 1 });
  let blockIn = ch * chMult[chMult.length - 1]!;
  let h = conv2d(g, z, `${key}.conv_in`, { inChannels: zChannels, outChannels: blockIn, kernel: 3 });
  h = midBlock(g, h, `${key}.mid`, blockIn);
  for (let level = chMult.length - 1; level >= 0; level--) {
    const blockOut = ch * chMult[level]!;
    for (let i = 0; i <= numResBlocks; i++) {
      h = resnetBlock(g, h, `${key}.up.${level}.block.${i}`, blockIn, blockOut);
      blockIn = blockOut;
    }
    if (level !== 0) h = upsample(g, h, `${key}.up.${level}.upsample`, blockIn);
  }
  return conv2d(g, normSwish(g, h, `${key}.norm_out`, blockIn), `${key}.conv_out`, { inChannels: blockIn, outChannels: 3, kernel: 3 });
}

/** The `vae_encoder` graph of graphSignature: image → mean, logvar (`options.precision`: compute type, default float32). */
export function buildVaeEncoderGraph(config: DiffPortrait360Config, options: GraphBuilderOptions = {}): GraphBuilder {
  const signature = graphSignature(config, 'orbit', 'vae_encoder');
  const g = new GraphBuilder('vae_encoder', options);
  const [imageSig] = signature.inputs;
  const image = g.input(imageSig!.name, imageSig!.type, imageSig!.shape);
  const moments = vaeEncode(g, image, config.vae);
  const [mean, logvar] = g.op('Split', [moments], { axis: 1, num_outputs: 2 }, { outputs: 2, hint: 'moments' });
  const [meanSig, logvarSig] = signature.outputs;
  g.output(mean!, meanSig!.name, meanSig!.type, meanSig!.shape);
  g.output(logvar!, logvarSig!.name, logvarSig!.type, logvarSig!.shape);
  return g;
}

/** The `vae_decoder` graph of graphSignature: latent → image (`options.precision`: compute type, default float32). */
export function buildVaeDecoderGraph(config: DiffPortrait360Config, options: GraphBuilderOptions = {}): GraphBuilder {
  const signature = graphSignature(config, 'orbit', 'vae_decoder');
  const g = new GraphBuilder('vae_decoder', options);
  const [latentSig] = signature.inputs;
  const [imageSig] = signature.outputs;
  const image = vaeDecode(g, g.input(latentSig!.name, latentSig!.type, latentSig!.shape), config.vae);
  g.output(image, imageSig!.name, imageSig!.type, imageSig!.shape);
  return g;
}

/** Every `first_stage_model.*` state-dict key with its shape (encoder, decoder, quant convs). */
export function vaeStateDictKeys(config: DiffPortrait360Config): ParamSpec[] {
  return [...buildVaeEncoderGraph(config).params, ...buildVaeDecoderGraph(config).params];
}
