import { DEFAULT_SAMPLER } from '../../../src/generate/diffportrait360/bundle-manifest.js';
import { type DiffPortrait360Config, TINY_CONFIG, latentSize } from '../../../src/generate/diffportrait360/config.js';
import type { DiffusionModels } from '../../../src/generate/diffportrait360/generate-views.js';
import { type DiffusionRuntime, type Tensor, checkInputs, checkOutputs } from '../../../src/generate/diffportrait360/runtime/tensor.js';
import { type GraphName, type ModelKind, bankEntries, bankName, controlShapes, graphSignature } from '../../../src/generate/diffportrait360/signatures.js';

export interface FakeCall {
  model: ModelKind;
  graph: GraphName;
  /** Every input's dims. */
  dims: Record<string, number[]>;
  timestep?: number;
  /** Copies of the inputs (small at tiny size). */
  feeds: Record<string, Float32Array>;
}

const sum = (a: Float32Array) => {
  let total = 0;
  for (let i = 0; i < a.length; i++) total += a[i];
  return total;
};

/** The fake ε of the cond pass: depends on x, the banks and the residuals (all frame by frame). */
export function fakeEpsCond(x: Float32Array, bankSum: number, controlPerFrame: number[], frameLength: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = 0.3 * x[i] + 1e-7 * bankSum + controlPerFrame[Math.floor(i / frameLength)];
  return out;
}

export function fakeEpsUncond(x: Float32Array): Float32Array {
  return x.map((v) => 0.1 * v - 0.01);
}

/**
 * A DiffusionRuntime with deterministic stand-ins for every graph, checking each call against the
 * graph signatures exactly as the ONNX runtime does, and recording the calls.
 */
export class FakeRuntime implements DiffusionRuntime {
  readonly provider = 'fake';
  readonly calls: FakeCall[] = [];
  readonly released: (ModelKind | undefined)[] = [];
  constructor(readonly config: DiffPortrait360Config = TINY_CONFIG, private readonly keepFeeds = true) {}

  async run(model: ModelKind, graph: GraphName, feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
    const signature = graphSignature(this.config, model, graph);
    const bound = checkInputs(`${model}/${graph}`, signature, feeds);
    const copies: Record<string, Float32Array> = {};
    const dims: Record<string, number[]> = {};
    for (const [name, t] of Object.entries(feeds)) {
      dims[name] = [...t.dims];
      if (t.type === 'float32' && this.keepFeeds) copies[name] = new Float32Array(t.data as Float32Array);
    }
    const ts = feeds.timestep?.data as BigInt64Array | undefined;
    this.calls.push({ model, graph, dims, feeds: copies, timestep: ts ? Number(ts[0]) : undefined });
    const outputs = this.compute(model, graph, feeds, bound);
    checkOutputs(`${model}/${graph}`, signature, outputs, bound);
    return outputs;
  }

  private compute(model: ModelKind, graph: GraphName, feeds: Record<string, Tensor>, bound: Record<string, number>): Record<string, Tensor> {
    const c = this.config;
    const latent = latentSize(c);
    const z = c.unet.latentChannels;
    const frameLength = z * latent * latent;
    const f32 = (data: Float32Array, dims: number[]): Tensor => ({ type: 'float32', dims, data });
    const t = feeds.timestep ? Number((feeds.timestep.data as BigInt64Array)[0]) : 0;
    // The frame batch is static in the signatures (one window, or the one back view).
    const frames = feeds.x ? feeds.x.dims[0]! : 0;
    switch (graph) {
      case 'vae_encoder': {
        const n = bound.N;
        const image = feeds.image.data as Float32Array;
        const per = image.length / n;
        const mean = new Float32Array(n * frameLength);
        for (let k = 0; k < n; k++) mean.fill(sum(image.subarray(k * per, (k + 1) * per)) / per, k * frameLength, (k + 1) * frameLength);
        return { mean: f32(mean, [n, z, latent, latent]), logvar: f32(new Float32Array(n * frameLength).fill(-8), [n, z, latent, latent]) };
      }
      case 'vae_decoder': {
        const n = bound.N;
        const data = feeds.latent.data as Float32Array;
        const size = c.imageSize;
        const image = new Float32Array(n * 3 * size * size);
        for (let k = 0; k < n; k++) {
          const m = sum(data.subarray(k * frameLength, (k + 1) * frameLength)) / frameLength;
          image.fill(Math.tanh(m), k * 3 * size * size, (k + 1) * 3 * size * size);
        }
        return { image: f32(image, [n, 3, size, size]) };
      }
      case 'appearance': {
        const ref = sum(feeds.ref_latent.data as Float32Array);
        const out: Record<string, Tensor> = {};
        bankEntries(c).forEach((e, j) => (out[bankName(j)] = f32(new Float32Array(e.tokens * e.channels).fill(ref * 0.01 + j + t * 1e-3), [1, e.tokens, e.channels])));
        return out;
      }
      case 'controlnet': {
        const b = frames;
        const hint = feeds.hint.data as Float32Array;
        const per = hint.length / b;
        const out: Record<string, Tensor> = {};
        const means = Array.from({ length: b }, (_, k) => sum(hint.subarray(k * per, (k + 1) * per)) / per);
        for (const s of controlShapes(c)) {
          const len = s.shape[0] * s.shape[1] * s.shape[2];
          const data = new Float32Array(b * len);
          for (let k = 0; k < b; k++) data.fill(means[k], k * len, (k + 1) * len);
          out[s.name] = f32(data, [b, ...s.shape]);
        }
        return out;
      }
      case 'unet_cond': {
        const b = frames;
        const x = feeds.x.data as Float32Array;
        let bankSum = 0;
        bankEntries(c).forEach((_, j) => (bankSum += sum(feeds[bankName(j)].data as Float32Array)));
        const ctrl = feeds.ctrl_00.data as Float32Array;
        const per = ctrl.length / b;
        const controlPerFrame = Array.from({ length: b }, (_, k) => ctrl[k * per] * 0.05);
        return { eps: f32(fakeEpsCond(x, bankSum, controlPerFrame, frameLength), [b, z, latent, latent]) };
      }
      case 'unet_uncond':
        return { eps: f32(fakeEpsUncond(feeds.x.data as Float32Array), [frames, z, latent, latent]) };
      default:
        throw new Error(`fake runtime: no ${graph}`);
    }
  }

  async release(model?: ModelKind): Promise<void> {
    this.released.push(model);
  }
}

/** Tiny models: hint k is a flat image of value (k − 16)/20, so every frame's hint is recognisable. */
export function fakeModels(sampler = DEFAULT_SAMPLER, config: DiffPortrait360Config = TINY_CONFIG): DiffusionModels {
  const size = config.imageSize;
  const context = new Float32Array(config.clip.contextLength * config.unet.contextDim).fill(0.5);
  return {
    config,
    sampler,
    contexts: { back: context, orbit: context },
    hints: Array.from({ length: 32 }, (_, k) => new Float32Array(3 * size * size).fill((k - 16) / 20)),
  };
}
