import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { FULL_CONFIG, TINY_CONFIG } from '../../../src/generate/diffportrait360/config.js';
import { CLIP_PREFIX, buildClipTextGraph, clipTextStateDictKeys, emptyPromptIds } from '../../../src/generate/diffportrait360/networks/clip-text.js';
import { buildVaeDecoderGraph, buildVaeEncoderGraph, vaeStateDictKeys } from '../../../src/generate/diffportrait360/networks/vae.js';
import { RandomWeights } from '../../../src/generate/diffportrait360/onnx/random-weights.js';
import { graphSignature } from '../../../src/generate/diffportrait360/signatures.js';

const KEYS_FILE = new URL('../../../../shared/docs/diffportrait360-state-dict-keys.txt', import.meta.url);

/** `key → shape` of the temporal model's full list in the keys file, for keys under `prefix`. */
function keysFromFile(prefix: string): Map<string, number[]> {
  const text = readFileSync(KEYS_FILE, 'utf8');
  const start = text.indexOf('-- full list: key shape dtype');
  const end = text.indexOf('MODEL backhead_PC');
  const keys = new Map<string, number[]>();
  for (const line of text.slice(start, end).split('\n')) {
    const match = /^(\S+) \[([\d, ]*)\] (\w+)$/.exec(line);
    if (match && match[1]!.startsWith(`${prefix}.`)) keys.set(match[1]!, match[2]!.split(',').map((s) => Number(s.trim())));
  }
  return keys;
}

const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

function finite(data: Float32Array): boolean {
  return data.every((v) => Number.isFinite(v));
}

describe('DiffPortrait360 VAE and CLIP text graphs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'head3d-vae-clip-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const weights = new RandomWeights({ seed: 11, std: 0.2, biasStd: 0.05 });

  it('full-size state-dict keys and shapes equal the reference key list (83653863 + 123060557 elements)', () => {
    if (!existsSync(KEYS_FILE)) throw new Error(`missing ${KEYS_FILE.pathname}`);
    for (const [prefix, ours, total] of [
      ['first_stage_model', vaeStateDictKeys(FULL_CONFIG).map((p) => ({ key: p.name, shape: p.shape })), 83653863],
      ['cond_stage_model', clipTextStateDictKeys(FULL_CONFIG), 123060557],
    ] as const) {
      const reference = keysFromFile(prefix);
      expect(ours.length).toBe(reference.size);
      for (const { key, shape } of ours) expect([key, reference.get(key)]).toEqual([key, shape]);
      expect(ours.reduce((s, k) => s + numel(k.shape), 0)).toBe(total);
    }
  });

  it('tiny VAE encoder and decoder run in onnxruntime with the declared shapes', async () => {
    const n = 2;
    const size = TINY_CONFIG.imageSize;
    const latent = size / 8;
    const encoderFile = join(dir, 'vae_encoder.onnx');
    const decoderFile = join(dir, 'vae_decoder.onnx');
    await buildVaeEncoderGraph(TINY_CONFIG).write(encoderFile, weights);
    await buildVaeDecoderGraph(TINY_CONFIG).write(decoderFile, weights);

    const encoder = await ort.InferenceSession.create(encoderFile);
    expect(encoder.inputNames).toEqual(graphSignature(TINY_CONFIG, 'orbit', 'vae_encoder').inputs.map((t) => t.name));
    expect(encoder.outputNames).toEqual(['mean', 'logvar']);
    const image = new Float32Array(n * 3 * size * size).map((_, i) => Math.sin(i * 0.013));
    const encoded = await encoder.run({ image: new ort.Tensor('float32', image, [n, 3, size, size]) });
    for (const name of ['mean', 'logvar']) {
      expect(encoded[name]!.dims).toEqual([n, 4, latent, latent]);
      expect(finite(encoded[name]!.data as Float32Array)).toBe(true);
    }
    // The two images differ, so the encodings do too (the batch is not mixed up).
    const mean = encoded.mean!.data as Float32Array;
    const half = mean.length / 2;
    expect(mean.subarray(0, half)).not.toEqual(mean.subarray(half));

    const decoder = await ort.InferenceSession.create(decoderFile);
    const decoded = await decoder.run({ latent: new ort.Tensor('float32', mean, [n, 4, latent, latent]) });
    expect(decoded.image!.dims).toEqual([n, 3, size, size]);
    const pixels = decoded.image!.data as Float32Array;
    expect(finite(pixels)).toBe(true);
    expect(Math.max(...pixels.map(Math.abs))).toBeGreaterThan(0);
  });

  it('tiny CLIP text graph matches a float64 reference (causal mask, quick_gelu, pre-LN)', async () => {
    const config = TINY_CONFIG;
    const file = join(dir, 'clip_text.onnx');
    await buildClipTextGraph(config).write(file, weights);
    const session = await ort.InferenceSession.create(file);
    // A prompt with distinct tokens, so the causal mask matters.
    const ids = emptyPromptIds(config.clip.contextLength);
    [320, 1125, 539].forEach((id, i) => (ids[i + 1] = BigInt(id)));
    const result = await session.run({ input_ids: new ort.Tensor('int64', ids, [1, config.clip.contextLength]) });
    const actual = result.last_hidden_state!.data as Float32Array;
    expect(result.last_hidden_state!.dims).toEqual([1, config.clip.contextLength, config.clip.width]);

    const expected = referenceClip(config.clip, Array.from(ids, Number), (name, shape) => weights.read({ name: `${CLIP_PREFIX}.${name}`, shape }));
    let maxError = 0;
    for (let i = 0; i < expected.length; i++) maxError = Math.max(maxError, Math.abs(actual[i]! - expected[i]!));
    expect(maxError).toBeLessThan(1e-4);
    // Causality: the first token's state does not depend on later tokens.
    const other = await session.run({ input_ids: new ort.Tensor('int64', emptyPromptIds(config.clip.contextLength), [1, config.clip.contextLength]) });
    const width = config.clip.width;
    expect((other.last_hidden_state!.data as Float32Array).subarray(0, width)).toEqual(actual.subarray(0, width));
    expect((other.last_hidden_state!.data as Float32Array).subarray(width, 2 * width)).not.toEqual(actual.subarray(width, 2 * width));
  });
});

/** CLIPTextModel in float64, written from the Hugging Face definition. */
function referenceClip(
  clip: { width: number; layers: number; heads: number; contextLength: number; vocabSize: number },
  ids: number[],
  p: (name: string, shape: number[]) => Float32Array,
): Float64Array {
  const { width: c, layers, heads, contextLength: n } = clip;
  const d = c / heads;
  const tokens = p('embeddings.token_embedding.weight', [clip.vocabSize, c]);
  const positions = p('embeddings.position_embedding.weight', [n, c]);
  let h = new Float64Array(n * c);
  for (let t = 0; t < n; t++) for (let i = 0; i < c; i++) h[t * c + i] = tokens[ids[t]! * c + i]! + positions[t * c + i]!;
  const layerNorm = (x: Float64Array, key: string): Float64Array => {
    const w = p(`${key}.weight`, [c]);
    const b = p(`${key}.bias`, [c]);
    const out = new Float64Array(x.length);
    for (let t = 0; t < n; t++) {
      let mean = 0;
      for (let i = 0; i < c; i++) mean += x[t * c + i]!;
      mean /= c;
      let variance = 0;
      for (let i = 0; i < c; i++) variance += (x[t * c + i]! - mean) ** 2;
      variance /= c;
      for (let i = 0; i < c; i++) out[t * c + i] = ((x[t * c + i]! - mean) / Math.sqrt(variance + 1e-5)) * w[i]! + b[i]!;
    }
    return out;
  };
  const linear = (x: Float64Array, key: string, inF: number, outF: number): Float64Array => {
    const w = p(`${key}.weight`, [outF, inF]);
    const b = p(`${key}.bias`, [outF]);
    const out = new Float64Array(n * outF);
    for (let t = 0; t < n; t++)
      for (let o = 0; o < outF; o++) {
        let s = b[o]!;
        for (let i = 0; i < inF; i++) s += x[t * inF + i]! * w[o * inF + i]!;
        out[t * outF + o] = s;
      }
    return out;
  };
  for (let layer = 0; layer < layers; layer++) {
    const key = `encoder.layers.${layer}`;
    const x = layerNorm(h, `${key}.layer_norm1`);
    const q = linear(x, `${key}.self_attn.q_proj`, c, c);
    const k = linear(x, `${key}.self_attn.k_proj`, c, c);
    const v = linear(x, `${key}.self_attn.v_proj`, c, c);
    const attended = new Float64Array(n * c);
    for (let head = 0; head < heads; head++)
      for (let i = 0; i < n; i++) {
        const scores: number[] = [];
        for (let j = 0; j <= i; j++) {
          let s = 0;
          for (let e = 0; e < d; e++) s += q[i * c + head * d + e]! * k[j * c + head * d + e]!;
          scores.push(s / Math.sqrt(d));
        }
        const max = Math.max(...scores);
        const exps = scores.map((s) => Math.exp(s - max));
        const total = exps.reduce((a, b) => a + b, 0);
        for (let e = 0; e < d; e++) {
          let s = 0;
          for (let j = 0; j <= i; j++) s += (exps[j]! / total) * v[j * c + head * d + e]!;
          attended[i * c + head * d + e] = s;
        }
      }
    const projected = linear(attended, `${key}.self_attn.out_proj`, c, c);
    h = h.map((value, i) => value + projected[i]!);
    const hidden = linear(layerNorm(h, `${key}.layer_norm2`), `${key}.mlp.fc1`, c, 4 * c).map((value) => value / (1 + Math.exp(-1.702 * value)));
    const mlp = linear(hidden, `${key}.mlp.fc2`, 4 * c, c);
    h = h.map((value, i) => value + mlp[i]!);
  }
  return layerNorm(h, 'final_layer_norm');
}
