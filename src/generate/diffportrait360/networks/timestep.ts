/**
 * The diffusion timestep embedding of the LDM UNets: a sinusoidal embedding computed inside the
 * graph from the int64 timestep (cos first, then sin; max period 10000; diffportrait360.md §8), then
 * the `time_embed` MLP (Linear, SiLU, Linear) to 4× the model width.
 */
import type { GraphBuilder, Value } from '../onnx/graph-builder.js';
import { linear, silu } from '../onnx/layers.js';

const ONNX_FLOAT = 1;

/**
 * The frequencies exp(−ln(maxPeriod)·i/half), i < half, rounded as torch computes them in float32
 * (`ldm/modules/diffusionmodules/util.py` timestep_embedding).
 */
export function timestepFrequencies(dim: number, maxPeriod = 10000): Float32Array {
  const half = Math.floor(dim / 2);
  const scale = Math.fround(-Math.log(maxPeriod));
  return Float32Array.from({ length: half }, (_, i) => Math.fround(Math.exp(Math.fround(Math.fround(scale * i) / half))));
}

/** int64 timesteps [B] → float32 [B, dim] = [cos(t·f) ‖ sin(t·f)] (float32 in every graph precision). `dim` must be even. */
export function timestepEmbedding(g: GraphBuilder, timesteps: Value, dim: number, maxPeriod = 10000): Value {
  if (dim % 2 !== 0) throw new Error(`timestepEmbedding: odd dimension ${dim}`);
  const freqs = timestepFrequencies(dim, maxPeriod);
  const t = g.apply('Unsqueeze', [g.apply('Cast', [timesteps], { to: ONNX_FLOAT }), g.ints([1])], {}, 't');
  const args = g.apply('Mul', [t, g.constant(freqs, [1, freqs.length], 'float32', 'freqs')], {}, 't_args');
  return g.apply('Concat', [g.apply('Cos', [args]), g.apply('Sin', [args])], { axis: 1 }, 't_emb');
}

/** `<prefix>time_embed`: sinusoid(modelChannels) → Linear(C, 4C) → SiLU → Linear(4C, 4C); [B] → [B, 4C]. */
export function timeEmbed(g: GraphBuilder, timesteps: Value, prefix: string, modelChannels: number): Value {
  const dim = modelChannels * 4;
  const hidden = silu(g, linear(g, g.toCompute(timestepEmbedding(g, timesteps, modelChannels), 't_emb'), `${prefix}time_embed.0`, modelChannels, dim));
  return linear(g, hidden, `${prefix}time_embed.2`, dim, dim);
}
