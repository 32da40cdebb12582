/**
 * The SpatialTransformer of the LDM UNet (`ldm/modules/attention.py`) with DiffPortrait360's
 * reference attention (diffportrait360.md §3.4, §9.3): in 'write' mode the `norm1` output of every
 * BasicTransformerBlock is recorded as a bank entry; in 'read' mode `attn1` attends from
 * q = norm1(h) to k = v = concat_tokens(norm1(h), bank_j). 'plain' is ordinary self-attention (the
 * ControlNet, and the UNet's `uc` pass).
 */
import type { GraphBuilder, Value } from '../onnx/graph-builder.js';
import { attention, conv2d, gelu, groupNorm, layerNorm, linear } from '../onnx/layers.js';
import { type AttentionBudget, attentionChunks } from './attention-budget.js';

/** GroupNorm of the SpatialTransformer (`Normalize`) and the motion modules. */
export const TRANSFORMER_NORM_EPS = 1e-6;
/** torch.nn.LayerNorm default. */
export const LAYER_NORM_EPS = 1e-5;

/**
 * The self-attention mode of one pass over a trunk, shared by all of its transformer blocks in
 * order (write order = read order).
 */
export type ReferenceAttention =
  | { kind: 'plain' }
  /** Records each norm1 output in `bank`; once `stopAfter` entries exist the rest of the trunk is dead. */
  | { kind: 'write'; bank: Value[]; stopAfter?: number }
  /** Reads bank[next++]: [1, tokens, C] (all references' tokens) broadcast over the batch. */
  | { kind: 'read'; bank: readonly BankValue[]; next: number };

export interface BankValue {
  value: Value;
  /** Tokens of the entry (references × h·w). */
  tokens: number;
}

/** True once a write-mode pass has recorded every entry it needs (the graph stops there). */
export function bankComplete(mode: ReferenceAttention): boolean {
  return mode.kind === 'write' && mode.stopAfter !== undefined && mode.bank.length >= mode.stopAfter;
}

/** GEGLU feed-forward `ff.net`: Linear(C, 8C) → a·gelu(b) on the two halves → Linear(4C, C). */
export function feedForwardGeglu(g: GraphBuilder, x: Value, key: string, dim: number): Value {
  const inner = dim * 4;
  const projected = linear(g, x, `${key}.net.0.proj`, dim, inner * 2);
  const [value, gate] = g.op('Split', [projected], { axis: -1, num_outputs: 2 }, { outputs: 2, hint: 'geglu' });
  return linear(g, g.apply('Mul', [value!, gelu(g, gate!)], {}, 'geglu'), `${key}.net.2`, inner, dim);
}

interface AttentionShape {
  heads: number;
  channels: number;
  queries: number;
}

/**
 * CrossAttention: to_q/k/v without bias, heads of C/heads, to_out.0 with bias. `keys` defaults to x
 * (self-attention); `extraKeys` [1, R, keysDim] are appended to the key/value tokens of every batch
 * item (their projections are computed once and broadcast).
 */
function crossAttention(
  g: GraphBuilder,
  x: Value,
  key: string,
  shape: AttentionShape,
  budget: AttentionBudget,
  options: { context?: { value: Value; dim: number; tokens: number }; extraKeys?: { value: Value; tokens: number } } = {},
): Value {
  const { heads, channels, queries } = shape;
  const q = linear(g, x, `${key}.to_q`, channels, channels, false);
  const source = options.context?.value ?? x;
  const sourceDim = options.context?.dim ?? channels;
  let k = linear(g, source, `${key}.to_k`, sourceDim, channels, false);
  let v = linear(g, source, `${key}.to_v`, sourceDim, channels, false);
  let keyTokens = options.context?.tokens ?? queries;
  if (options.extraKeys) {
    const extra = options.extraKeys;
    // [1, R, C] → [B, R, C], B taken from x.
    const target = g.apply('Concat', [g.apply('Shape', [x], { start: 0, end: 1 }), g.ints([extra.tokens, channels])], { axis: 0 }, 'bank_shape');
    const bankK = g.apply('Expand', [linear(g, extra.value, `${key}.to_k`, channels, channels, false), target], {}, 'bank_k');
    const bankV = g.apply('Expand', [linear(g, extra.value, `${key}.to_v`, channels, channels, false), target], {}, 'bank_v');
    k = g.apply('Concat', [k, bankK], { axis: 1 }, 'read_k');
    v = g.apply('Concat', [v, bankV], { axis: 1 }, 'read_v');
    keyTokens += extra.tokens;
  }
  const chunks = attentionChunks(budget, heads, queries, keyTokens);
  const attended = attention(g, q, k, v, { heads, headDim: channels / heads, chunks });
  return linear(g, attended, `${key}.to_out.0`, channels, channels);
}

export interface SpatialTransformerOptions {
  channels: number;
  heads: number;
  side: number;
  context: Value;
  contextDim: number;
  contextTokens: number;
  mode: ReferenceAttention;
  budget: AttentionBudget;
}

/**
 * SpatialTransformer (depth 1, 1×1-conv projections): x [B, C, H, W] →
 * x + proj_out(BasicTransformerBlock(proj_in(GN(x)))). In write mode, when the bank becomes
 * complete at this block's norm1, returns x unchanged without building the dead remainder.
 */
export function spatialTransformer(g: GraphBuilder, x: Value, key: string, o: SpatialTransformerOptions): Value {
  const { channels, side } = o;
  const tokens = side * side;
  let h = groupNorm(g, x, `${key}.norm`, channels, TRANSFORMER_NORM_EPS);
  h = conv2d(g, h, `${key}.proj_in`, { inChannels: channels, outChannels: channels, kernel: 1 });
  h = g.apply('Transpose', [g.apply('Reshape', [h, g.ints([0, channels, tokens])])], { perm: [0, 2, 1] }, 'tokens');

  const block = `${key}.transformer_blocks.0`;
  const shape = { heads: o.heads, channels, queries: tokens };
  const norm1 = layerNorm(g, h, `${block}.norm1`, channels, LAYER_NORM_EPS);
  let selfAttended: Value;
  if (o.mode.kind === 'read') {
    const entry = o.mode.bank[o.mode.next];
    if (!entry) throw new Error(`spatialTransformer ${key}: bank entry ${o.mode.next} missing (${o.mode.bank.length} given)`);
    o.mode.next++;
    selfAttended = crossAttention(g, norm1, `${block}.attn1`, shape, o.budget, { extraKeys: entry });
  } else {
    if (o.mode.kind === 'write') {
      o.mode.bank.push(norm1);
      if (bankComplete(o.mode)) return x;
    }
    selfAttended = crossAttention(g, norm1, `${block}.attn1`, shape, o.budget);
  }
  h = g.apply('Add', [selfAttended, h], {}, 'attn1_res');
  const crossAttended = crossAttention(g, layerNorm(g, h, `${block}.norm2`, channels, LAYER_NORM_EPS), `${block}.attn2`, shape, o.budget, {
    context: { value: o.context, dim: o.contextDim, tokens: o.contextTokens },
  });
  h = g.apply('Add', [crossAttended, h], {}, 'attn2_res');
  h = g.apply('Add', [feedForwardGeglu(g, layerNorm(g, h, `${block}.norm3`, channels, LAYER_NORM_EPS), `${block}.ff`, channels), h], {}, 'ff_res');

  h = g.apply('Reshape', [g.apply('Transpose', [h], { perm: [0, 2, 1] }), g.ints([0, channels, side, side])], {}, 'image');
  h = conv2d(g, h, `${key}.proj_out`, { inChannels: channels, outChannels: channels, kernel: 1 });
  return g.apply('Add', [h, x], {}, 'transformer_out');
}

