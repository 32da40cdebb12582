import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { FULL_CONFIG, TINY_CONFIG } from '../../../src/generate/diffportrait360/config.js';
import { attentionChunks } from '../../../src/generate/diffportrait360/networks/attention-budget.js';
import { buildGraph, expectedStateDictKeys, UNET_GRAPH_NAMES, type UNetGraphName } from '../../../src/generate/diffportrait360/networks/graphs.js';
import { motionModule, positionTable } from '../../../src/generate/diffportrait360/networks/motion-module.js';
import { timestepEmbedding, timestepFrequencies } from '../../../src/generate/diffportrait360/networks/timestep.js';
import { GraphBuilder, type ParamSpec, type WeightSource } from '../../../src/generate/diffportrait360/onnx/graph-builder.js';
import { RandomWeights } from '../../../src/generate/diffportrait360/onnx/random-weights.js';
import { bankName, CONTROL_MIDDLE, controlName, controlShapes, graphSignature, type ModelKind } from '../../../src/generate/diffportrait360/signatures.js';
import { relativeMaxError } from '../../helpers/numeric.js';

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
const options: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 1, interOpNumThreads: 1 };

/** Per-prefix tensor and element counts of the full-size 'temporal' state dict (diffportrait360-state-dict-keys.txt). */
const FULL_ORBIT_PREFIXES: Record<string, [number, number]> = {
  control_model: [682, 859508800],
  'model.diffusion_model.input_blocks': [248, 249624320],
  'model.diffusion_model.input_blocks_motion_module': [224, 167192960],
  'model.diffusion_model.middle_block': [46, 97038080],
  'model.diffusion_model.out': [4, 12164],
  'model.diffusion_model.output_blocks': [384, 510795840],
  'model.diffusion_model.output_blocks_motion_module': [336, 250789440],
  'model.diffusion_model.time_embed': [4, 2050560],
  pose_control_model: [340, 361279120],
};

function prefixCounts(keys: { key: string; shape: number[] }[]): Record<string, [number, number]> {
  const counts: Record<string, [number, number]> = {};
  for (const { key, shape } of keys) {
    const prefix = /^(model\.diffusion_model\.[a-z_]+|[a-z_]+)/.exec(key)![1]!;
    const entry = (counts[prefix] ??= [0, 0]);
    entry[0]++;
    entry[1] += size(shape);
  }
  return counts;
}

describe('expectedStateDictKeys', () => {
  it('lists the full-size 360 model with the reference per-prefix tensor and element counts', () => {
    const keys = expectedStateDictKeys(FULL_CONFIG, 'orbit');
    expect(keys).toHaveLength(2268); // 2529 non-CLIP keys − 248 VAE − 13 DDPM buffers
    expect(new Set(keys.map((k) => k.key)).size).toBe(keys.length);
    expect(prefixCounts(keys)).toEqual(FULL_ORBIT_PREFIXES);
    const shapes = new Map(keys.map((k) => [k.key, k.shape]));
    const samples: [string, number[]][] = [
      ['model.diffusion_model.time_embed.0.weight', [1280, 320]],
      ['model.diffusion_model.input_blocks.0.0.weight', [320, 4, 3, 3]],
      ['model.diffusion_model.input_blocks.4.0.skip_connection.weight', [640, 320, 1, 1]],
      ['model.diffusion_model.input_blocks.9.0.op.weight', [1280, 1280, 3, 3]],
      ['model.diffusion_model.input_blocks.8.1.transformer_blocks.0.attn2.to_k.weight', [1280, 768]],
      ['model.diffusion_model.middle_block.1.transformer_blocks.0.ff.net.0.proj.weight', [10240, 1280]],
      ['model.diffusion_model.output_blocks.2.1.conv.weight', [1280, 1280, 3, 3]],
      ['model.diffusion_model.output_blocks.8.2.conv.weight', [640, 640, 3, 3]],
      ['model.diffusion_model.output_blocks.3.0.skip_connection.weight', [1280, 2560, 1, 1]],
      ['model.diffusion_model.output_blocks.11.0.in_layers.0.weight', [640]],
      ['model.diffusion_model.out.2.weight', [4, 320, 3, 3]],
      ['model.diffusion_model.input_blocks_motion_module.7.0.temporal_transformer.transformer_blocks.0.attention_blocks.1.pos_encoder.pe', [1, 24, 1280]],
      ['model.diffusion_model.output_blocks_motion_module.8.0.temporal_transformer.proj_in.weight', [640, 640]],
      ['model.diffusion_model.output_blocks_motion_module.11.0.temporal_transformer.transformer_blocks.0.ff.net.2.weight', [320, 1280]],
      ['control_model.output_blocks.11.1.proj_out.weight', [320, 320, 1, 1]],
      ['pose_control_model.input_hint_block.14.weight', [320, 256, 3, 3]],
      ['pose_control_model.zero_convs.11.0.weight', [1280, 1280, 1, 1]],
      ['pose_control_model.middle_block_out.0.bias', [1280]],
    ];
    for (const [key, shape] of samples) expect(shapes.get(key), key).toEqual(shape);
  });

  it('lists the back model without motion modules, and the tiny models with the same key names', () => {
    const back = expectedStateDictKeys(FULL_CONFIG, 'back');
    expect(back).toHaveLength(1708);
    const { ['model.diffusion_model.input_blocks_motion_module']: _i, ['model.diffusion_model.output_blocks_motion_module']: _o, ...rest } = FULL_ORBIT_PREFIXES;
    expect(prefixCounts(back)).toEqual(rest);
    for (const model of ['orbit', 'back'] as const) {
      expect(expectedStateDictKeys(TINY_CONFIG, model).map((k) => k.key)).toEqual(expectedStateDictKeys(FULL_CONFIG, model).map((k) => k.key));
    }
  });

  // The research notes (not in the repository) list every key; compare them all where they exist.
  const notes = join(process.cwd(), '..', 'shared', 'docs', 'diffportrait360-state-dict-keys.txt');
  it.skipIf(!existsSync(notes))('matches every key and shape of the reference key list (needs ../shared/docs)', () => {
    const lines = readFileSync(notes, 'utf8').split('\n');
    const reference = new Map<string, string>();
    for (const line of lines.slice(lines.indexOf('-- full list: key shape dtype') + 1)) {
      if (line.startsWith('=')) break;
      const m = /^(\S+) \[([\d, ]*)\]/.exec(line);
      if (m && m[1]!.includes('.') && !/^(cond_stage_model|first_stage_model)\./.test(m[1]!)) reference.set(m[1]!, m[2]!.replace(/ /g, ''));
    }
    for (const model of ['orbit', 'back'] as const) {
      const wanted = [...reference].filter(([key]) => model === 'orbit' || !key.includes('motion_module'));
      const mine = new Map(expectedStateDictKeys(FULL_CONFIG, model).map((k) => [k.key, k.shape.join(',')]));
      expect(mine.size).toBe(wanted.length);
      for (const [key, shape] of wanted) expect(mine.get(key), key).toBe(shape);
    }
  });
});

describe('attention chunking', () => {
  it('bounds the full-size 64² cond self-attention and leaves small ones whole', () => {
    const budget = { bytes: 256 * 2 ** 20, batch: 8 };
    const chunks = attentionChunks(budget, 8, 4096, 3 * 4096);
    expect(chunks).toBe(64);
    expect((8 * 8 * (4096 / chunks) * 3 * 4096 * 4) / 2 ** 20).toBeLessThanOrEqual(256);
    expect(attentionChunks(budget, 8, 64, 64)).toBe(1);
    expect(attentionChunks({ bytes: 1, batch: 1 }, 1, 8, 8)).toBe(8);
  });
});

/** Seeded sinusoidal test data. */
function data(count: number, seed: number, scale = 1): Float32Array {
  return Float32Array.from({ length: count }, (_, i) => scale * Math.sin(i * 0.731 + seed * 1.37) * Math.cos(i * 0.117 + seed));
}

describe('timestep embedding and motion module', () => {
  const dir = mkdtempSync(join(tmpdir(), 'head3d-unet-parts-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('embeds int64 timesteps as [cos ‖ sin] of t·exp(−ln(10⁴)·i/half)', async () => {
    const g = new GraphBuilder('t');
    g.output(timestepEmbedding(g, g.input('t', 'int64', ['B']), 32), 'emb', 'float32', ['B', 32]);
    const file = join(dir, 't.onnx');
    await g.write(file, new RandomWeights({ seed: 1, std: 0.2, biasStd: 0.05 }));
    const steps = [1, 21, 500, 981];
    const session = await ort.InferenceSession.create(file, options);
    const out = await session.run({ t: new ort.Tensor('int64', BigInt64Array.from(steps.map(BigInt)), [steps.length]) });
    const emb = out.emb!.data as Float32Array;
    const freqs = timestepFrequencies(32);
    for (let i = 0; i < 16; i++) expect(freqs[i]).toBeCloseTo(Math.exp((-Math.log(10000) * i) / 16), 6);
    steps.forEach((t, b) => {
      for (let i = 0; i < 16; i++) {
        const angle = Math.fround(t * freqs[i]!);
        expect(emb[b * 32 + i]).toBeCloseTo(Math.cos(angle), 5);
        expect(emb[b * 32 + 16 + i]).toBeCloseTo(Math.sin(angle), 5);
      }
    });
  });

  it('matches a float64 reference of the temporal module over two windows of 8 frames', async () => {
    const [channels, side, heads, frames, batch] = [32, 2, 4, 8, 16];
    const tokens = side * side;
    const key = 'mm';
    const g = new GraphBuilder('motion');
    const x = g.input('x', 'float32', ['B', channels, side, side]);
    const y = motionModule(g, x, key, { channels, side, heads, frames, maxLength: 24, budget: { bytes: 1 << 30, batch } });
    g.output(y, 'y', 'float32', ['B', channels, side, side]);
    const weights = new RandomWeights({ seed: 5, std: 0.2, biasStd: 0.05 });
    const file = join(dir, 'motion.onnx');
    await g.write(file, weights);
    const input = data(batch * channels * tokens, 3, 2);
    const session = await ort.InferenceSession.create(file, options);
    const actual = (await session.run({ x: new ort.Tensor('float32', input, [batch, channels, side, side]) })).y!.data as Float32Array;

    // Reference, written from motion_module.py: rows are [frame b][token d] with C features.
    const p = (name: string, shape: number[]): Float32Array => {
      const spec = g.params.find((s) => s.name === `${key}.temporal_transformer.${name}`)!;
      expect(spec.shape).toEqual(shape);
      return weights.read(spec) as Float32Array;
    };
    const C = channels;
    const rows = batch * tokens;
    const linear = (v: Float64Array, w: Float32Array, b: Float32Array | null, inF: number, outF: number): Float64Array => {
      const out = new Float64Array((v.length / inF) * outF);
      for (let r = 0; r < v.length / inF; r++)
        for (let o = 0; o < outF; o++) {
          let s = b ? b[o]! : 0;
          for (let i = 0; i < inF; i++) s += v[r * inF + i]! * w[o * inF + i]!;
          out[r * outF + o] = s;
        }
      return out;
    };
    const layerNorm = (v: Float64Array, w: Float32Array, b: Float32Array): Float64Array => {
      const out = new Float64Array(v.length);
      for (let r = 0; r < v.length / C; r++) {
        let mean = 0;
        for (let i = 0; i < C; i++) mean += v[r * C + i]! / C;
        let variance = 0;
        for (let i = 0; i < C; i++) variance += (v[r * C + i]! - mean) ** 2 / C;
        for (let i = 0; i < C; i++) out[r * C + i] = ((v[r * C + i]! - mean) / Math.sqrt(variance + 1e-5)) * w[i]! + b[i]!;
      }
      return out;
    };
    // GroupNorm(32 groups of 1 channel here, eps 1e-6) per frame, then [B, C, HW] → rows [B·HW, C].
    const gw = p('norm.weight', [C]);
    const gb = p('norm.bias', [C]);
    let h: Float64Array = new Float64Array(rows * C);
    const groupSize = C / 32;
    for (let b = 0; b < batch; b++)
      for (let grp = 0; grp < 32; grp++) {
        let mean = 0;
        let count = 0;
        for (let c = grp * groupSize; c < (grp + 1) * groupSize; c++) for (let t = 0; t < tokens; t++) (mean += input[(b * C + c) * tokens + t]!), count++;
        mean /= count;
        let variance = 0;
        for (let c = grp * groupSize; c < (grp + 1) * groupSize; c++) for (let t = 0; t < tokens; t++) variance += (input[(b * C + c) * tokens + t]! - mean) ** 2 / count;
        for (let c = grp * groupSize; c < (grp + 1) * groupSize; c++)
          for (let t = 0; t < tokens; t++) h[(b * tokens + t) * C + c] = ((input[(b * C + c) * tokens + t]! - mean) / Math.sqrt(variance + 1e-6)) * gw[c]! + gb[c]!;
      }
    h = linear(h, p('proj_in.weight', [C, C]), p('proj_in.bias', [C]), C, C);
    const block = 'transformer_blocks.0';
    const pe = positionTable(C, 24);
    const d = C / heads;
    for (let j = 0; j < 2; j++) {
      const a = `${block}.attention_blocks.${j}`;
      const normed = layerNorm(h, p(`${block}.norms.${j}.weight`, [C]), p(`${block}.norms.${j}.bias`, [C]));
      // Position encoding by frame index within the window: frame f of window w is batch row w·8 + f.
      for (let b = 0; b < batch; b++) for (let t = 0; t < tokens; t++) for (let c = 0; c < C; c++) normed[(b * tokens + t) * C + c]! += pe[(b % frames) * C + c]!;
      const q = linear(normed, p(`${a}.to_q.weight`, [C, C]), null, C, C);
      const k = linear(normed, p(`${a}.to_k.weight`, [C, C]), null, C, C);
      const v = linear(normed, p(`${a}.to_v.weight`, [C, C]), null, C, C);
      const attended = new Float64Array(rows * C);
      for (let w = 0; w < batch / frames; w++)
        for (let t = 0; t < tokens; t++)
          for (let hd = 0; hd < heads; hd++)
            for (let f = 0; f < frames; f++) {
              const row = (w * frames + f) * tokens + t;
              const scores = Array.from({ length: frames }, (_, g2) => {
                const other = (w * frames + g2) * tokens + t;
                let s = 0;
                for (let e = 0; e < d; e++) s += q[row * C + hd * d + e]! * k[other * C + hd * d + e]!;
                return s / Math.sqrt(d);
              });
              const max = Math.max(...scores);
              const exps = scores.map((s) => Math.exp(s - max));
              const total = exps.reduce((s, e) => s + e, 0);
              for (let e = 0; e < d; e++) {
                let s = 0;
                for (let g2 = 0; g2 < frames; g2++) s += (exps[g2]! / total) * v[((w * frames + g2) * tokens + t) * C + hd * d + e]!;
                attended[row * C + hd * d + e] = s;
              }
            }
      const projected = linear(attended, p(`${a}.to_out.0.weight`, [C, C]), p(`${a}.to_out.0.bias`, [C]), C, C);
      h = h.map((value, i) => value + projected[i]!);
    }
    const ffIn = layerNorm(h, p(`${block}.ff_norm.weight`, [C]), p(`${block}.ff_norm.bias`, [C]));
    const proj = linear(ffIn, p(`${block}.ff.net.0.proj.weight`, [8 * C, C]), p(`${block}.ff.net.0.proj.bias`, [8 * C]), C, 8 * C);
    const erf = (z: number): number => {
      // Abramowitz–Stegun 7.1.26 is too coarse; use the series/continued fraction via Math-free Simpson integration.
      const n = 400;
      const step = z / n;
      let s = 0;
      for (let i = 0; i <= n; i++) s += (i === 0 || i === n ? 1 : i % 2 ? 4 : 2) * Math.exp(-((i * step) ** 2));
      return ((2 / Math.sqrt(Math.PI)) * s * step) / 3;
    };
    const geglu = new Float64Array(rows * 4 * C);
    for (let r = 0; r < rows; r++)
      for (let i = 0; i < 4 * C; i++) {
        const gate = proj[r * 8 * C + 4 * C + i]!;
        geglu[r * 4 * C + i] = proj[r * 8 * C + i]! * 0.5 * gate * (1 + erf(gate / Math.SQRT2));
      }
    const ff = linear(geglu, p(`${block}.ff.net.2.weight`, [C, 4 * C]), p(`${block}.ff.net.2.bias`, [C]), 4 * C, C);
    h = h.map((value, i) => value + ff[i]!);
    h = linear(h, p('proj_out.weight', [C, C]), p('proj_out.bias', [C]), C, C);
    const expected = new Float64Array(input.length);
    for (let b = 0; b < batch; b++)
      for (let c = 0; c < C; c++) for (let t = 0; t < tokens; t++) expected[(b * C + c) * tokens + t] = input[(b * C + c) * tokens + t]! + h[(b * tokens + t) * C + c]!;
    expect(relativeMaxError(actual, expected)).toBeLessThan(1e-5);
    // Windows are independent: changing the second window leaves the first one's output alone.
    const changed = input.slice();
    for (let i = frames * C * tokens; i < changed.length; i++) changed[i] = changed[i]! * -0.5;
    const again = (await session.run({ x: new ort.Tensor('float32', changed, [batch, channels, side, side]) })).y!.data as Float32Array;
    expect(relativeMaxError(again.subarray(0, frames * C * tokens), actual.subarray(0, frames * C * tokens))).toBe(0);
  });
});

/** Feeds of the declared shapes (B = batch) with seeded values; timesteps 981. */
function feedsFor(model: ModelKind, graph: UNetGraphName, batch: number, seed: number): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  graphSignature(TINY_CONFIG, model, graph).inputs.forEach((s, i) => {
    const shape = s.shape.map((d) => (d === 'B' ? batch : (d as number)));
    feeds[s.name] =
      s.type === 'int64'
        ? new ort.Tensor('int64', new BigInt64Array(size(shape)).fill(981n), shape)
        : new ort.Tensor('float32', data(size(shape), seed + i), shape);
  });
  return feeds;
}

const MODELS: ModelKind[] = ['back', 'orbit'];
const batchOf = (model: ModelKind): number => (model === 'orbit' ? TINY_CONFIG.motion.videoLength : 1);

/**
 * Weights under which the appearance net is the UNet's own trunk (control_model.* read from
 * model.diffusion_model.*) and every motion module is the identity (proj_out zero).
 */
class SharedTrunkWeights implements WeightSource {
  constructor(private readonly base: WeightSource) {}
  read(spec: ParamSpec): Float32Array | Promise<Float32Array> {
    if (spec.name.startsWith('control_model.')) return this.base.read({ ...spec, name: `model.diffusion_model.${spec.name.slice('control_model.'.length)}` });
    if (/_motion_module\..*temporal_transformer\.proj_out\./.test(spec.name)) return new Float32Array(size(spec.shape));
    return this.base.read(spec);
  }
}

// Session creation dominates the time of these tests (onnxruntime plans a few thousand nodes), so
// the sessions are shared: 'random' weights everywhere, and 'shared' ones for the bank identity.
const dir = mkdtempSync(join(tmpdir(), 'head3d-unet-graphs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const random = new RandomWeights({ seed: 11, std: 0.2, biasStd: 0.05 });
const WEIGHTS = { random, shared: new SharedTrunkWeights(random) };
const sessions = new Map<string, Promise<ort.InferenceSession>>();
function session(weights: keyof typeof WEIGHTS, model: ModelKind, graph: UNetGraphName): Promise<ort.InferenceSession> {
  // Without motion modules both weight sets give the same UNet; the appearance net differs but any is fine for shape checks.
  const kind = model === 'back' || !graph.startsWith('unet') ? 'shared' : weights;
  const key = `${kind}/${model}/${graph}`;
  let created = sessions.get(key);
  if (!created) {
    const file = join(dir, `${kind}_${model}_${graph}.onnx`);
    created = buildGraph(TINY_CONFIG, model, graph)
      .write(file, WEIGHTS[kind])
      .then(() => ort.InferenceSession.create(file, options));
    sessions.set(key, created);
  }
  return created;
}

describe('tiny UNet-family graphs in onnxruntime', () => {
  for (const model of MODELS)
    for (const graph of UNET_GRAPH_NAMES)
      it(`${model}/${graph} runs with the declared I/O and gives finite outputs`, async () => {
        const signature = graphSignature(TINY_CONFIG, model, graph);
        const s = await session('random', model, graph);
        expect(s.inputNames).toEqual(signature.inputs.map((i) => i.name));
        expect(s.outputNames).toEqual(signature.outputs.map((o) => o.name));
        const batch = batchOf(model);
        const started = performance.now();
        const out = await s.run(feedsFor(model, graph, batch, 1));
        expect(performance.now() - started).toBeLessThan(5000);
        for (const o of signature.outputs) {
          const tensor = out[o.name]!;
          expect(tensor.dims, o.name).toEqual(o.shape.map((d) => (d === 'B' ? batch : d)));
          const values = tensor.data as Float32Array;
          expect(values.every(Number.isFinite), o.name).toBe(true);
          expect(values.some((v) => Math.abs(v) > 1e-3), o.name).toBe(true);
        }
      });
});

describe('reference attention', () => {
  // When the bank holds exactly the tokens the UNet's own norm1 produces at every block, the
  // concatenated keys and values are copies of the own ones, softmax weights split evenly among the
  // copies, and read-mode attention equals plain self-attention: with zero residuals the cond pass
  // must then equal the uc pass. This checks bank order (write = read), token concatenation,
  // broadcast over the batch and the residual paths, independently of any reference code.
  for (const model of MODELS)
    it(`${model}: cond with the frame's own bank and zero residuals equals uncond; another bank or a residual changes it`, async () => {
      const batch = batchOf(model);
      const latent = TINY_CONFIG.imageSize / 8;
      const frameSize = TINY_CONFIG.unet.latentChannels * latent * latent;
      const frame = data(frameSize, 7);
      const x = new Float32Array(batch * frameSize);
      for (let b = 0; b < batch; b++) x.set(frame, b * frameSize);
      const xTensor = new ort.Tensor('float32', x, [batch, TINY_CONFIG.unet.latentChannels, latent, latent]);
      const timestep = new ort.Tensor('int64', new BigInt64Array(batch).fill(981n), [batch]);
      const contextShape = [1, TINY_CONFIG.clip.contextLength, TINY_CONFIG.unet.contextDim];
      const context = new ort.Tensor('float32', data(size(contextShape), 9), contextShape);
      const [appearance, cond, uncond] = await Promise.all([
        session('shared', model, 'appearance'),
        session('shared', model, 'unet_cond'),
        session('shared', model, 'unet_uncond'),
      ]);

      const bankOf = async (ref: Float32Array): Promise<ort.InferenceSession.OnnxValueMapType> =>
        appearance.run({
          ref_latent: new ort.Tensor('float32', ref, [1, TINY_CONFIG.unet.latentChannels, latent, latent]),
          timestep: new ort.Tensor('int64', new BigInt64Array([981n]), [1]),
          context,
        });
      const condFeeds = (bank: ort.InferenceSession.OnnxValueMapType): Record<string, ort.Tensor> => {
        const feeds: Record<string, ort.Tensor> = { x: xTensor, timestep, context };
        const references = model === 'orbit' ? 2 : 1;
        for (let i = 0; i < 16; i++) {
          const entry = bank[bankName(i)]!;
          const [, tokens, channels] = entry.dims as [number, number, number];
          const tiled = new Float32Array(references * tokens * channels);
          for (let r = 0; r < references; r++) tiled.set(entry.data as Float32Array, r * tokens * channels);
          feeds[bankName(i)] = new ort.Tensor('float32', tiled, [1, references * tokens, channels]);
        }
        for (const c of controlShapes(TINY_CONFIG)) feeds[c.name] = new ort.Tensor('float32', new Float32Array(batch * size(c.shape)), [batch, ...c.shape]);
        return feeds;
      };

      const plain = (await uncond.run({ x: xTensor, timestep, context })).eps!.data as Float32Array;
      const ownBank = await bankOf(frame);
      const read = (await cond.run(condFeeds(ownBank))).eps!.data as Float32Array;
      expect(relativeMaxError(read, plain)).toBeLessThan(1e-4);

      const otherBank = await bankOf(data(frameSize, 8));
      const other = (await cond.run(condFeeds(otherBank))).eps!.data as Float32Array;
      expect(relativeMaxError(other, plain)).toBeGreaterThan(1e-2);

      // Residuals reach ε: the middle one and the deepest skip's (the random net's decoder
      // activations grow large towards the top level, hence the scale and the choice of skip).
      for (const name of [CONTROL_MIDDLE, controlName(11)]) {
        const feeds = condFeeds(ownBank);
        const dims = feeds[name]!.dims as number[];
        feeds[name] = new ort.Tensor('float32', data(size(dims), 4, 1000), dims);
        const controlled = (await cond.run(feeds)).eps!.data as Float32Array;
        expect(relativeMaxError(controlled, plain), name).toBeGreaterThan(1e-2);
      }
    });
});
