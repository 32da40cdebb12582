/**
 * PyTorch layers as ONNX subgraphs, with weights named `<key>.weight` / `<key>.bias` exactly as in
 * the state dict. Activations are NCHW for convolutions and [batch, tokens, channels] for
 * transformer layers.
 */
import type { GraphBuilder, Value } from './graph-builder.js';

export interface Conv2dOptions {
  inChannels: number;
  outChannels: number;
  kernel: number;
  stride?: number;
  /** Symmetric padding; default kernel >> 1 ("same" for odd kernels at stride 1). */
  padding?: number;
}

export function conv2d(g: GraphBuilder, x: Value, key: string, o: Conv2dOptions): Value {
  const padding = o.padding ?? o.kernel >> 1;
  const weight = g.param(`${key}.weight`, [o.outChannels, o.inChannels, o.kernel, o.kernel]);
  const bias = g.param(`${key}.bias`, [o.outChannels]);
  return g.apply(
    'Conv',
    [x, weight, bias],
    { kernel_shape: [o.kernel, o.kernel], strides: [o.stride ?? 1, o.stride ?? 1], pads: [padding, padding, padding, padding] },
    'conv',
  );
}

/** torch.nn.Linear over the last axis: y = x·Wᵀ + b with W stored [out, in]. */
export function linear(g: GraphBuilder, x: Value, key: string, inFeatures: number, outFeatures: number, bias = true): Value {
  const weight = g.storedParam(`${key}.weight`, [outFeatures, inFeatures], { kind: 'transpose' });
  const product = g.apply('MatMul', [x, weight], {}, 'linear');
  if (!bias) return product;
  return g.apply('Add', [product, g.param(`${key}.bias`, [outFeatures])], {}, 'linear');
}

/**
 * torch.nn.GroupNorm on NCHW input (statistics per sample and group over channels·H·W). Computed in
 * float32 in every graph precision (the LDM's GroupNorm32), affine included; float32 weights.
 */
export function groupNorm(g: GraphBuilder, x: Value, key: string, channels: number, eps: number, groups = 32): Value {
  const grouped = g.apply('Reshape', [g.toFloat32(x), g.ints([0, groups, -1])], {}, 'groups');
  const normalised = g.apply(
    'InstanceNormalization',
    [grouped, g.constant(new Array<number>(groups).fill(1), [groups], 'float32'), g.constant(new Array<number>(groups).fill(0), [groups], 'float32')],
    { epsilon: { float: eps } },
    'group_norm',
  );
  const restored = g.apply('Reshape', [normalised, g.apply('Shape', [x])], {}, 'group_norm');
  const weight = g.storedParam(`${key}.weight`, [channels], { kind: 'reshape', shape: [channels, 1, 1] }, 'float32');
  const bias = g.storedParam(`${key}.bias`, [channels], { kind: 'reshape', shape: [channels, 1, 1] }, 'float32');
  return g.toCompute(g.apply('Add', [g.apply('Mul', [restored, weight]), bias], {}, 'group_norm'));
}

/** torch.nn.LayerNorm over the last axis; float32 in every graph precision, float32 weights. */
export function layerNorm(g: GraphBuilder, x: Value, key: string, channels: number, eps: number): Value {
  const normed = g.apply(
    'LayerNormalization',
    [g.toFloat32(x), g.param(`${key}.weight`, [channels], undefined, 'float32'), g.param(`${key}.bias`, [channels], undefined, 'float32')],
    { axis: -1, epsilon: { float: eps } },
    'layer_norm',
  );
  return g.toCompute(normed);
}

export function silu(g: GraphBuilder, x: Value): Value {
  return g.apply('Mul', [x, g.apply('Sigmoid', [x])], {}, 'silu');
}

/** Exact (erf) GELU, as torch.nn.functional.gelu's default. */
export function gelu(g: GraphBuilder, x: Value): Value {
  const erf = g.apply('Erf', [g.apply('Mul', [x, g.scalar(Math.SQRT1_2)])]);
  return g.apply('Mul', [g.apply('Mul', [x, g.scalar(0.5)]), g.apply('Add', [erf, g.scalar(1)])], {}, 'gelu');
}

export interface AttentionOptions {
  heads: number;
  headDim: number;
  /**
   * Split the queries into this many sequential chunks, so that only 1/chunks of the
   * [B, heads, Nq, Nk] probability tensor exists at a time (queries attend independently).
   */
  chunks?: number;
}

/**
 * softmax(q·kᵀ/√d)·v over heads. q: [B, Nq, heads·d]; k, v: [B, Nk, heads·d] → [B, Nq, heads·d].
 * The logits and the softmax are float32 in every graph precision (the LDM's ATTN_PRECISION);
 * the probabilities return to the compute type for the product with v.
 */
export function attention(g: GraphBuilder, q: Value, k: Value, v: Value, o: AttentionOptions): Value {
  // [B, N, heads·d] → [B, heads, N, d] (Reshape's 0 copies the input's dimension at the same index).
  const toHeads = (t: Value, perm: number[]): Value =>
    g.apply('Transpose', [g.apply('Reshape', [t, g.ints([0, 0, o.heads, o.headDim])])], { perm }, 'heads');
  // The scale goes on q (cheaper than on the scores).
  const qh = g.apply('Mul', [g.toFloat32(toHeads(q, [0, 2, 1, 3])), g.scalar(o.headDim ** -0.5, 'scalar', 'float32')]);
  const kt = g.toFloat32(toHeads(k, [0, 2, 3, 1]));
  const vh = toHeads(v, [0, 2, 1, 3]);
  const attend = (qc: Value): Value =>
    g.apply('MatMul', [g.toCompute(g.apply('Softmax', [g.apply('MatMul', [qc, kt], {}, 'scores')], { axis: -1 }), 'probs'), vh], {}, 'attended');
  const chunks = o.chunks ?? 1;
  const out =
    chunks <= 1
      ? attend(qh)
      : g.apply('Concat', g.op('Split', [qh], { axis: 2, num_outputs: chunks }, { outputs: chunks, hint: 'chunk' }).map(attend), { axis: 2 }, 'attended');
  return g.apply('Reshape', [g.apply('Transpose', [out], { perm: [0, 2, 1, 3] }), g.ints([0, 0, o.heads * o.headDim])], {}, 'merge_heads');
}
