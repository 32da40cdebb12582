/**
 * The CLIP ViT-L/14 text transformer (`cond_stage_model.transformer.text_model`, Hugging Face
 * CLIPTextModel as FrozenCLIPEmbedder wraps it with layer="last") as the `clip_text` graph:
 * input_ids int64 [1, 77] → last_hidden_state [1, 77, width].
 *
 * token_embedding(ids) + position_embedding (positions 0..76, i.e. the whole table: the input always
 * has the full context length), then `layers` pre-LN blocks — LayerNorm (eps 1e-5) → causal
 * multi-head self-attention (q/k/v/out projections with bias, scale head_dim^−½) → residual,
 * LayerNorm → fc1 → quick_gelu x·σ(1.702x) → fc2 → residual — and final_layer_norm.
 *
 * DiffPortrait360 always conditions on the empty prompt, so the converter runs this graph once per
 * checkpoint (`EMPTY_PROMPT_IDS`) and ships the result as a constant; the runtime never needs it.
 */
import type { ClipTextConfig, DiffPortrait360Config } from '../config.js';
import { GraphBuilder, type ParamSpec, type Value } from '../onnx/graph-builder.js';
import { layerNorm, linear } from '../onnx/layers.js';
import { graphSignature } from '../signatures.js';

export const CLIP_PREFIX = 'cond_stage_model.transformer.text_model';
/** A persistent int64 buffer (arange(77)) in checkpoints saved with transformers ≤ 4.30; not a graph weight. */
export const CLIP_POSITION_IDS_KEY = `${CLIP_PREFIX}.embeddings.position_ids`;
export const CLIP_BOS = 49406;
/** End of text, also the pad token of openai/clip-vit-large-patch14. */
export const CLIP_EOS = 49407;
const EPS = 1e-5;

/** Token ids of "" as FrozenCLIPEmbedder's tokenizer pads it: BOS then EOS to the full length. */
export function emptyPromptIds(contextLength: number): BigInt64Array {
  const ids = new BigInt64Array(contextLength).fill(BigInt(CLIP_EOS));
  ids[0] = BigInt(CLIP_BOS);
  return ids;
}

function quickGelu(g: GraphBuilder, x: Value): Value {
  return g.apply('Mul', [x, g.apply('Sigmoid', [g.apply('Mul', [x, g.scalar(1.702)])])], {}, 'quick_gelu');
}

/** Causal self-attention with an additive mask (−1e9 above the diagonal, as HF's finfo.min). */
function causalSelfAttention(g: GraphBuilder, x: Value, key: string, clip: ClipTextConfig, mask: Value): Value {
  const { width, heads } = clip;
  const headDim = width / heads;
  const toHeads = (t: Value, perm: number[]): Value =>
    g.apply('Transpose', [g.apply('Reshape', [t, g.ints([0, 0, heads, headDim])])], { perm }, 'heads');
  const q = g.apply('Mul', [toHeads(linear(g, x, `${key}.q_proj`, width, width), [0, 2, 1, 3]), g.scalar(headDim ** -0.5)]);
  const kt = toHeads(linear(g, x, `${key}.k_proj`, width, width), [0, 2, 3, 1]);
  const v = toHeads(linear(g, x, `${key}.v_proj`, width, width), [0, 2, 1, 3]);
  const scores = g.apply('Add', [g.apply('MatMul', [q, kt], {}, 'scores'), mask], {}, 'masked_scores');
  const attended = g.apply('MatMul', [g.apply('Softmax', [scores], { axis: -1 }), v], {}, 'attended');
  const merged = g.apply('Reshape', [g.apply('Transpose', [attended], { perm: [0, 2, 1, 3] }), g.ints([0, 0, width])], {}, 'merge_heads');
  return linear(g, merged, `${key}.out_proj`, width, width);
}

/** The text transformer on `ids` [1, L] int64 → last_hidden_state [1, L, width]. */
export function clipTextEncode(g: GraphBuilder, ids: Value, clip: ClipTextConfig, prefix = CLIP_PREFIX): Value {
  const { width, layers, vocabSize, contextLength } = clip;
  const tokens = g.apply('Gather', [g.param(`${prefix}.embeddings.token_embedding.weight`, [vocabSize, width]), ids], { axis: 0 }, 'token_embedding');
  let h = g.apply('Add', [tokens, g.param(`${prefix}.embeddings.position_embedding.weight`, [contextLength, width])], {}, 'embeddings');
  const maskValues = new Float32Array(contextLength * contextLength);
  for (let i = 0; i < contextLength; i++) for (let j = i + 1; j < contextLength; j++) maskValues[i * contextLength + j] = -1e9;
  const mask = g.constant(maskValues, [contextLength, contextLength], 'float32', 'causal_mask');
  for (let layer = 0; layer < layers; layer++) {
    const key = `${prefix}.encoder.layers.${layer}`;
    const attended = causalSelfAttention(g, layerNorm(g, h, `${key}.layer_norm1`, width, EPS), `${key}.self_attn`, clip, mask);
    h = g.apply('Add', [h, attended], {}, 'residual');
    const hidden = quickGelu(g, linear(g, layerNorm(g, h, `${key}.layer_norm2`, width, EPS), `${key}.mlp.fc1`, width, 4 * width));
    h = g.apply('Add', [h, linear(g, hidden, `${key}.mlp.fc2`, 4 * width, width)], {}, 'residual');
  }
  return layerNorm(g, h, `${prefix}.final_layer_norm`, width, EPS);
}

/** The `clip_text` graph of graphSignature. */
export function buildClipTextGraph(config: DiffPortrait360Config): GraphBuilder {
  const signature = graphSignature(config, 'orbit', 'clip_text');
  const g = new GraphBuilder('clip_text');
  const [idsSig] = signature.inputs;
  const [outSig] = signature.outputs;
  const hidden = clipTextEncode(g, g.input(idsSig!.name, idsSig!.type, idsSig!.shape), config.clip);
  g.output(hidden, outSig!.name, outSig!.type, outSig!.shape);
  return g;
}

/** Every float `cond_stage_model.*` weight with its shape (the graph's parameters). */
export function clipTextParams(config: DiffPortrait360Config): ParamSpec[] {
  return buildClipTextGraph(config).params;
}

/** All `cond_stage_model.*` state-dict keys: the weights plus the int64 position_ids buffer [1, L]. */
export function clipTextStateDictKeys(config: DiffPortrait360Config): { key: string; shape: number[] }[] {
  return [
    ...clipTextParams(config).map((p) => ({ key: p.name, shape: p.shape })),
    { key: CLIP_POSITION_IDS_KEY, shape: [1, config.clip.contextLength] },
  ];
}
