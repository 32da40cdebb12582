/**
 * AnimateDiff-v1 `VanillaTemporalModule` as the 360 model uses it (`ldm/modules/motion_module.py`,
 * YAML: 1 transformer block, two "Temporal_Self" attentions, position encoding on, max length 24):
 *
 *   h = proj_in(GN(x) as [B, HW, C])
 *   for j in 0, 1:  h = attn_j(norms.j(h)) + h     (temporal attention over the frames of a window)
 *   h = ff(ff_norm(h)) + h                          (GEGLU)
 *   out = x + proj_out(h) as [B, C, H, W]
 *
 * The temporal attention regroups tokens "(b f) d c → (b d) f c" with f = videoLength (frames of a
 * window are contiguous in the batch), adds `pos_encoder.pe[:, :f]` to them, and attends over f with
 * C/heads-wide heads; the result is regrouped back.
 */
import type { GraphBuilder, Value } from '../onnx/graph-builder.js';
import { attention, groupNorm, layerNorm, linear } from '../onnx/layers.js';
import { type AttentionBudget, attentionChunks } from './attention-budget.js';
import { feedForwardGeglu, LAYER_NORM_EPS, TRANSFORMER_NORM_EPS } from './transformer.js';

/** Attentions per motion-module transformer block (attention_block_types). */
export const TEMPORAL_ATTENTIONS = 2;

/**
 * The `PositionalEncoding.pe` buffer [1, maxLength, C]: pe[p, 2i] = sin(p·d_i), pe[p, 2i+1] = cos(p·d_i),
 * d_i = exp(2i·(−ln 10000 / C)), rounded like torch's float32 computation. It is a persistent buffer,
 * so converted checkpoints carry it; random bundles use this table.
 */
export function positionTable(channels: number, maxLength: number): Float32Array {
  const table = new Float32Array(maxLength * channels);
  const step = Math.fround(-Math.log(10000) / channels);
  for (let i = 0; 2 * i < channels; i++) {
    const div = Math.fround(Math.exp(Math.fround(2 * i * step)));
    for (let p = 0; p < maxLength; p++) {
      const angle = Math.fround(p * div);
      table[p * channels + 2 * i] = Math.fround(Math.sin(angle));
      if (2 * i + 1 < channels) table[p * channels + 2 * i + 1] = Math.fround(Math.cos(angle));
    }
  }
  return table;
}

export interface MotionModuleOptions {
  channels: number;
  side: number;
  heads: number;
  /** Frames per window (video_length). */
  frames: number;
  maxLength: number;
  budget: AttentionBudget;
}

/** One temporal self-attention `attention_blocks.j` on tokens [B, HW, C], B = windows·frames. */
function temporalAttention(g: GraphBuilder, x: Value, key: string, o: MotionModuleOptions): Value {
  const { channels, frames } = o;
  const tokens = o.side * o.side;
  // (b f) d c → b f d c → b d f c → (b d) f c
  const grouped = g.apply(
    'Reshape',
    [g.apply('Transpose', [g.apply('Reshape', [x, g.ints([-1, frames, tokens, channels])])], { perm: [0, 2, 1, 3] }), g.ints([-1, frames, channels])],
    {},
    'frames',
  );
  const table = g.param(`${key}.pos_encoder.pe`, [1, o.maxLength, channels], positionTable(channels, o.maxLength));
  const pe = g.apply('Slice', [table, g.ints([0]), g.ints([frames]), g.ints([1])], {}, 'pe');
  const h = g.apply('Add', [grouped, pe], {}, 'frames_pe');
  const q = linear(g, h, `${key}.to_q`, channels, channels, false);
  const k = linear(g, h, `${key}.to_k`, channels, channels, false);
  const v = linear(g, h, `${key}.to_v`, channels, channels, false);
  const windows = Math.max(1, o.budget.batch / frames);
  const chunks = attentionChunks({ bytes: o.budget.bytes, batch: windows * tokens }, o.heads, frames, frames);
  const attended = linear(g, attention(g, q, k, v, { heads: o.heads, headDim: channels / o.heads, chunks }), `${key}.to_out.0`, channels, channels);
  // (b d) f c → b d f c → b f d c → (b f) d c
  return g.apply(
    'Reshape',
    [g.apply('Transpose', [g.apply('Reshape', [attended, g.ints([-1, tokens, frames, channels])])], { perm: [0, 2, 1, 3] }), g.ints([-1, tokens, channels])],
    {},
    'tokens',
  );
}

/** `<key>` = `…input_blocks_motion_module.i.0` / `…output_blocks_motion_module.i.0`; x: [B, C, H, W]. */
export function motionModule(g: GraphBuilder, x: Value, key: string, o: MotionModuleOptions): Value {
  const { channels, side } = o;
  const tokens = side * side;
  const t = `${key}.temporal_transformer`;
  let h = groupNorm(g, x, `${t}.norm`, channels, TRANSFORMER_NORM_EPS);
  h = g.apply('Transpose', [g.apply('Reshape', [h, g.ints([0, channels, tokens])])], { perm: [0, 2, 1] }, 'tokens');
  h = linear(g, h, `${t}.proj_in`, channels, channels);
  const block = `${t}.transformer_blocks.0`;
  for (let j = 0; j < TEMPORAL_ATTENTIONS; j++) {
    const normed = layerNorm(g, h, `${block}.norms.${j}`, channels, LAYER_NORM_EPS);
    h = g.apply('Add', [temporalAttention(g, normed, `${block}.attention_blocks.${j}`, o), h], {}, 'temporal_res');
  }
  h = g.apply('Add', [feedForwardGeglu(g, layerNorm(g, h, `${block}.ff_norm`, channels, LAYER_NORM_EPS), `${block}.ff`, channels), h], {}, 'ff_res');
  h = linear(g, h, `${t}.proj_out`, channels, channels);
  h = g.apply('Reshape', [g.apply('Transpose', [h], { perm: [0, 2, 1] }), g.ints([0, channels, side, side])], {}, 'image');
  return g.apply('Add', [h, x], {}, 'motion_out');
}
