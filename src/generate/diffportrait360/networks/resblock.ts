/**
 * The convolutional blocks of the LDM UNet (`ldm/modules/diffusionmodules/openaimodel.py`): ResBlock
 * conditioned on the timestep embedding, the stride-2 Downsample and the nearest ×2 Upsample.
 */
import type { GraphBuilder, Value } from '../onnx/graph-builder.js';
import { conv2d, groupNorm, linear, silu } from '../onnx/layers.js';

/** GroupNorm32 of the ResBlocks and the UNet `out` head (torch default eps). */
export const RESBLOCK_NORM_EPS = 1e-5;

/**
 * ResBlock without scale-shift norm: h = conv(SiLU(GN(x))) + Linear(SiLU(emb)); h = conv(SiLU(GN(h)));
 * out = skip(x) + h, where skip is a 1×1 conv when the width changes. x: [B, in, H, W], emb: [B, E].
 */
export function resBlock(g: GraphBuilder, x: Value, emb: Value, key: string, inChannels: number, outChannels: number, embChannels: number): Value {
  let h = silu(g, groupNorm(g, x, `${key}.in_layers.0`, inChannels, RESBLOCK_NORM_EPS));
  h = conv2d(g, h, `${key}.in_layers.2`, { inChannels, outChannels, kernel: 3 });
  const embOut = linear(g, silu(g, emb), `${key}.emb_layers.1`, embChannels, outChannels);
  h = g.apply('Add', [h, g.apply('Unsqueeze', [embOut, g.ints([2, 3])], {}, 'emb_out')], {}, 'res_h');
  h = silu(g, groupNorm(g, h, `${key}.out_layers.0`, outChannels, RESBLOCK_NORM_EPS));
  h = conv2d(g, h, `${key}.out_layers.3`, { inChannels: outChannels, outChannels, kernel: 3 });
  const skip = inChannels === outChannels ? x : conv2d(g, x, `${key}.skip_connection`, { inChannels, outChannels, kernel: 1 });
  return g.apply('Add', [skip, h], {}, 'res_out');
}

/** Downsample with `op`: a 3×3 stride-2 conv, padding 1. */
export function downsample(g: GraphBuilder, x: Value, key: string, channels: number): Value {
  return conv2d(g, x, `${key}.op`, { inChannels: channels, outChannels: channels, kernel: 3, stride: 2, padding: 1 });
}

/** Upsample: nearest-neighbour ×2 (each pixel repeated 2×2), then a 3×3 conv `conv`. */
export function upsample(g: GraphBuilder, x: Value, key: string, channels: number): Value {
  const up = g.apply(
    'Resize',
    [x, null, g.constant([1, 1, 2, 2], [4], 'float32', 'up_scales')],
    { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' },
    'upsampled',
  );
  return conv2d(g, up, `${key}.conv`, { inChannels: channels, outChannels: channels, kernel: 3 });
}
