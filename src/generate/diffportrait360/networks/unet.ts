/**
 * The SD1.5-layout UNet trunk shared by the three networks of a DiffPortrait360 model
 * (`ldm/modules/diffusionmodules/openaimodel.py`, `cldm/cldm.py`): the denoising UNet
 * (`model.diffusion_model`, with motion modules in the 360 model), the appearance net
 * (`control_model`, a full trunk without `out` head) and the camera ControlNet's encoder
 * (`pose_control_model`). The layout is computed from the config, so one code path emits the
 * full-size and the tiny models.
 */
import type { DiffPortrait360Config } from '../config.js';
import { latentSize } from '../config.js';
import type { GraphBuilder, Value } from '../onnx/graph-builder.js';
import { conv2d, groupNorm, silu } from '../onnx/layers.js';
import type { AttentionBudget } from './attention-budget.js';
import { motionModule } from './motion-module.js';
import { downsample, RESBLOCK_NORM_EPS, resBlock, upsample } from './resblock.js';
import { bankComplete, type ReferenceAttention, spatialTransformer } from './transformer.js';

export interface InputBlockLayout {
  /** 'conv_in' = input block 0; 'res' = ResBlock (+ SpatialTransformer); 'down' = Downsample. */
  kind: 'conv_in' | 'res' | 'down';
  inChannels: number;
  outChannels: number;
  /** Side of the block's output. */
  side: number;
  attention: boolean;
  /** Index into `input_blocks_motion_module` of the module after this block (360 UNet), if any. */
  motion: number | null;
}

export interface OutputBlockLayout {
  /** Channels after concatenating the skip. */
  inChannels: number;
  outChannels: number;
  /** Side of the block's input (before any upsample). */
  side: number;
  attention: boolean;
  upsample: boolean;
}

export interface UNetLayout {
  input: InputBlockLayout[];
  middle: { channels: number; side: number };
  output: OutputBlockLayout[];
  timeEmbedDim: number;
}

/** The block structure of the UNet for `config` (UNetModel.__init__ without scale-shift or resblock up/down). */
export function unetLayout(config: DiffPortrait360Config): UNetLayout {
  const { modelChannels, channelMult, numResBlocks, attentionResolutions } = config.unet;
  const latent = latentSize(config);
  const input: InputBlockLayout[] = [{ kind: 'conv_in', inChannels: config.unet.latentChannels, outChannels: modelChannels, side: latent, attention: false, motion: null }];
  const skipChannels = [modelChannels];
  let ch = modelChannels;
  let ds = 1;
  let motion = 0;
  channelMult.forEach((mult, level) => {
    for (let r = 0; r < numResBlocks; r++) {
      input.push({ kind: 'res', inChannels: ch, outChannels: mult * modelChannels, side: latent / ds, attention: attentionResolutions.includes(ds), motion: motion++ });
      ch = mult * modelChannels;
      skipChannels.push(ch);
    }
    if (level !== channelMult.length - 1) {
      ds *= 2;
      input.push({ kind: 'down', inChannels: ch, outChannels: ch, side: latent / ds, attention: false, motion: null });
      skipChannels.push(ch);
    }
  });
  const middle = { channels: ch, side: latent / ds };
  const output: OutputBlockLayout[] = [];
  for (let level = channelMult.length - 1; level >= 0; level--) {
    const mult = channelMult[level]!;
    for (let i = 0; i <= numResBlocks; i++) {
      const skip = skipChannels.pop()!;
      const up = level > 0 && i === numResBlocks;
      output.push({ inChannels: ch + skip, outChannels: modelChannels * mult, side: latent / ds, attention: attentionResolutions.includes(ds), upsample: up });
      ch = modelChannels * mult;
      if (up) ds /= 2;
    }
  }
  return { input, middle, output, timeEmbedDim: modelChannels * 4 };
}

/** What a pass over the trunk does beyond the plain UNet. */
export interface TrunkPass {
  config: DiffPortrait360Config;
  /** State-dict prefix with the trailing dot: 'model.diffusion_model.', 'control_model.', 'pose_control_model.'. */
  prefix: string;
  emb: Value;
  /** [1, 77, D] text context (broadcast over the batch). */
  context: Value;
  mode: ReferenceAttention;
  budget: AttentionBudget;
  /** Apply the 360 model's motion modules (after input blocks 1,2,4,5,7,8,10,11 and every output block). */
  motion: boolean;
}

function heads(pass: TrunkPass): number {
  return pass.config.unet.numHeads;
}

function transformer(g: GraphBuilder, h: Value, key: string, channels: number, side: number, pass: TrunkPass): Value {
  return spatialTransformer(g, h, key, {
    channels,
    side,
    heads: heads(pass),
    context: pass.context,
    contextDim: pass.config.unet.contextDim,
    contextTokens: pass.config.clip.contextLength,
    mode: pass.mode,
    budget: pass.budget,
  });
}

function motion(g: GraphBuilder, h: Value, key: string, channels: number, side: number, pass: TrunkPass): Value {
  const m = pass.config.motion;
  return motionModule(g, h, key, { channels, side, heads: m.numHeads, frames: m.videoLength, maxLength: m.maxLength, budget: pass.budget });
}

export interface EncoderResult {
  /** Output of the last input block. */
  h: Value;
  /** Stored skips (input-block outputs, after their motion module), 12 for SD1.5. */
  skips: Value[];
}

/**
 * The input blocks. `afterFirst` (the ControlNet's hint features) is added to the output of input
 * block 0, which is also what is stored and passed on.
 */
export function encoder(g: GraphBuilder, x: Value, pass: TrunkPass, afterFirst?: Value): EncoderResult {
  const layout = unetLayout(pass.config);
  const skips: Value[] = [];
  let h = x;
  layout.input.forEach((block, i) => {
    const key = `${pass.prefix}input_blocks.${i}`;
    if (bankComplete(pass.mode)) return;
    if (block.kind === 'conv_in') {
      h = conv2d(g, h, `${key}.0`, { inChannels: block.inChannels, outChannels: block.outChannels, kernel: 3 });
      if (afterFirst) h = g.apply('Add', [h, afterFirst], {}, 'hinted');
    } else if (block.kind === 'down') {
      h = downsample(g, h, `${key}.0`, block.inChannels);
    } else {
      h = resBlock(g, h, pass.emb, `${key}.0`, block.inChannels, block.outChannels, layout.timeEmbedDim);
      if (block.attention) h = transformer(g, h, `${key}.1`, block.outChannels, block.side, pass);
      if (pass.motion && block.motion !== null && !bankComplete(pass.mode)) {
        h = motion(g, h, `${pass.prefix}input_blocks_motion_module.${block.motion}.0`, block.outChannels, block.side, pass);
      }
    }
    skips.push(h);
  });
  return { h, skips };
}

/** middle_block: ResBlock, SpatialTransformer, ResBlock (no motion module). */
export function middleBlock(g: GraphBuilder, h: Value, pass: TrunkPass): Value {
  const { middle, timeEmbedDim } = unetLayout(pass.config);
  const key = `${pass.prefix}middle_block`;
  if (bankComplete(pass.mode)) return h;
  h = resBlock(g, h, pass.emb, `${key}.0`, middle.channels, middle.channels, timeEmbedDim);
  h = transformer(g, h, `${key}.1`, middle.channels, middle.side, pass);
  if (bankComplete(pass.mode)) return h;
  return resBlock(g, h, pass.emb, `${key}.2`, middle.channels, middle.channels, timeEmbedDim);
}

/**
 * The output blocks: h = block_i(cat[h, skip_{11−i} (+ residual_{11−i})]), each followed by its motion
 * module in the 360 UNet. `residuals` are the ControlNet's 12 skip residuals in skip order.
 */
export function decoder(g: GraphBuilder, h: Value, skips: readonly Value[], pass: TrunkPass, residuals?: readonly Value[]): Value {
  const layout = unetLayout(pass.config);
  const stack = [...skips];
  const controls = residuals ? [...residuals] : undefined;
  layout.output.forEach((block, i) => {
    if (bankComplete(pass.mode)) return;
    const key = `${pass.prefix}output_blocks.${i}`;
    let skip = stack.pop()!;
    if (controls) skip = g.apply('Add', [skip, controls.pop()!], {}, 'controlled_skip');
    h = g.apply('Concat', [h, skip], { axis: 1 }, 'skip_cat');
    h = resBlock(g, h, pass.emb, `${key}.0`, block.inChannels, block.outChannels, layout.timeEmbedDim);
    let next = 1;
    if (block.attention) {
      h = transformer(g, h, `${key}.${next++}`, block.outChannels, block.side, pass);
      if (bankComplete(pass.mode)) return;
    }
    const side = block.upsample ? block.side * 2 : block.side;
    if (block.upsample) h = upsample(g, h, `${key}.${next++}`, block.outChannels);
    if (pass.motion) h = motion(g, h, `${pass.prefix}output_blocks_motion_module.${i}.0`, block.outChannels, side, pass);
  });
  return h;
}

/** `out`: GroupNorm32, SiLU, 3×3 conv to the latent channels. */
export function unetOut(g: GraphBuilder, h: Value, pass: TrunkPass): Value {
  const { modelChannels, latentChannels } = pass.config.unet;
  const normed = silu(g, groupNorm(g, h, `${pass.prefix}out.0`, modelChannels, RESBLOCK_NORM_EPS));
  return conv2d(g, normed, `${pass.prefix}out.2`, { inChannels: modelChannels, outChannels: latentChannels, kernel: 3 });
}
