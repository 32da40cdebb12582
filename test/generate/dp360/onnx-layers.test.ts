import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '../../../src/generate/diffportrait360/onnx/graph-builder.js';
import { attention, conv2d, gelu, groupNorm, layerNorm, linear, silu } from '../../../src/generate/diffportrait360/onnx/layers.js';
import { RandomWeights } from '../../../src/generate/diffportrait360/onnx/random-weights.js';

// Independent float64 reference of the same layers, written directly from the PyTorch definitions.
type Tensor = { data: Float64Array; shape: number[] };
const size = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

function refConv(x: Tensor, w: Float32Array, b: Float32Array, outC: number, k: number): Tensor {
  const [n, c, h, wd] = x.shape as [number, number, number, number];
  const p = k >> 1;
  const out = new Float64Array(n * outC * h * wd);
  for (let ni = 0; ni < n; ni++)
    for (let o = 0; o < outC; o++)
      for (let y = 0; y < h; y++)
        for (let xx = 0; xx < wd; xx++) {
          let s = b[o]!;
          for (let ci = 0; ci < c; ci++)
            for (let ky = 0; ky < k; ky++)
              for (let kx = 0; kx < k; kx++) {
                const iy = y + ky - p;
                const ix = xx + kx - p;
                if (iy < 0 || ix < 0 || iy >= h || ix >= wd) continue;
                s += w[((o * c + ci) * k + ky) * k + kx]! * x.data[((ni * c + ci) * h + iy) * wd + ix]!;
              }
          out[((ni * outC + o) * h + y) * wd + xx] = s;
        }
  return { data: out, shape: [n, outC, h, wd] };
}

function refGroupNorm(x: Tensor, w: Float32Array, b: Float32Array, groups: number, eps: number): Tensor {
  const [n, c] = x.shape as [number, number];
  const spatial = size(x.shape) / (n * c);
  const per = (c / groups) * spatial;
  const out = new Float64Array(x.data.length);
  for (let ni = 0; ni < n; ni++)
    for (let gi = 0; gi < groups; gi++) {
      const start = (ni * c + gi * (c / groups)) * spatial;
      let mean = 0;
      for (let i = 0; i < per; i++) mean += x.data[start + i]!;
      mean /= per;
      let variance = 0;
      for (let i = 0; i < per; i++) variance += (x.data[start + i]! - mean) ** 2;
      variance /= per;
      for (let i = 0; i < per; i++) {
        const channel = gi * (c / groups) + Math.floor(i / spatial);
        out[start + i] = ((x.data[start + i]! - mean) / Math.sqrt(variance + eps)) * w[channel]! + b[channel]!;
      }
    }
  return { data: out, shape: x.shape };
}

function refLayerNorm(x: Tensor, w: Float32Array, b: Float32Array, eps: number): Tensor {
  const c = x.shape[x.shape.length - 1]!;
  const out = new Float64Array(x.data.length);
  for (let r = 0; r < x.data.length / c; r++) {
    let mean = 0;
    for (let i = 0; i < c; i++) mean += x.data[r * c + i]!;
    mean /= c;
    let variance = 0;
    for (let i = 0; i < c; i++) variance += (x.data[r * c + i]! - mean) ** 2;
    variance /= c;
    for (let i = 0; i < c; i++) out[r * c + i] = ((x.data[r * c + i]! - mean) / Math.sqrt(variance + eps)) * w[i]! + b[i]!;
  }
  return { data: out, shape: x.shape };
}

function refLinear(x: Tensor, w: Float32Array, b: Float32Array | null, outF: number): Tensor {
  const inF = x.shape[x.shape.length - 1]!;
  const rows = x.data.length / inF;
  const out = new Float64Array(rows * outF);
  for (let r = 0; r < rows; r++)
    for (let o = 0; o < outF; o++) {
      let s = b ? b[o]! : 0;
      for (let i = 0; i < inF; i++) s += x.data[r * inF + i]! * w[o * inF + i]!;
      out[r * outF + o] = s;
    }
  return { data: out, shape: [...x.shape.slice(0, -1), outF] };
}

function refAttention(q: Tensor, k: Tensor, v: Tensor, heads: number): Tensor {
  const [batch, nq, c] = q.shape as [number, number, number];
  const nk = k.shape[1]!;
  const d = c / heads;
  const out = new Float64Array(batch * nq * c);
  for (let bi = 0; bi < batch; bi++)
    for (let h = 0; h < heads; h++)
      for (let i = 0; i < nq; i++) {
        const scores = new Float64Array(nk);
        let max = -Infinity;
        for (let j = 0; j < nk; j++) {
          let s = 0;
          for (let e = 0; e < d; e++) s += q.data[(bi * nq + i) * c + h * d + e]! * k.data[(bi * nk + j) * c + h * d + e]!;
          scores[j] = s / Math.sqrt(d);
          max = Math.max(max, scores[j]!);
        }
        let total = 0;
        for (let j = 0; j < nk; j++) total += (scores[j] = Math.exp(scores[j]! - max));
        for (let e = 0; e < d; e++) {
          let s = 0;
          for (let j = 0; j < nk; j++) s += (scores[j]! / total) * v.data[(bi * nk + j) * c + h * d + e]!;
          out[(bi * nq + i) * c + h * d + e] = s;
        }
      }
  return { data: out, shape: [batch, nq, c] };
}

const map = (x: Tensor, f: (v: number) => number): Tensor => ({ data: x.data.map(f), shape: x.shape });
const erf = (x: number): number => {
  // Simpson's rule on 2/√π·exp(−t²) over [0, x]: accurate to ~1e-12 here, independent of Math tricks.
  const steps = 2000;
  const h = x / steps;
  let sum = 0;
  for (let i = 0; i <= steps; i++) sum += (i === 0 || i === steps ? 1 : i % 2 ? 4 : 2) * Math.exp(-((i * h) ** 2));
  return ((2 / Math.sqrt(Math.PI)) * sum * h) / 3;
};

describe('ONNX layers built in TypeScript', () => {
  const dir = mkdtempSync(join(tmpdir(), 'head3d-onnx-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('match a float64 reference of conv, GroupNorm, SiLU, LayerNorm, linear, chunked attention and GELU', async () => {
    const [n, c, side, heads, outC] = [2, 4, 6, 2, 64];
    const g = new GraphBuilder('layers');
    const x = g.input('x', 'float32', ['N', c, side, side]);
    const memory = g.input('memory', 'float32', ['N', 5, outC]);
    let h = conv2d(g, x, 'conv', { inChannels: c, outChannels: outC, kernel: 3 });
    h = silu(g, groupNorm(g, h, 'norm', outC, 1e-6));
    const tokens = g.apply('Transpose', [g.apply('Reshape', [h, g.ints([0, outC, -1])])], { perm: [0, 2, 1] });
    const normed = layerNorm(g, tokens, 'ln', outC, 1e-5);
    const keys = g.apply('Concat', [normed, memory], { axis: 1 });
    const attended = attention(
      g,
      linear(g, normed, 'to_q', outC, outC, false),
      linear(g, keys, 'to_k', outC, outC, false),
      linear(g, keys, 'to_v', outC, outC, false),
      { heads, headDim: outC / heads, chunks: 2 },
    );
    const y = gelu(g, linear(g, attended, 'to_out', outC, outC));
    g.output(y, 'y', 'float32', ['N', side * side, outC]);

    const weights = new RandomWeights({ seed: 7, std: 0.2, biasStd: 0.05 });
    const file = join(dir, 'layers.onnx');
    // A threshold that puts the larger matrices in external data and keeps the rest inline.
    const written = await g.write(file, weights, { externalDataThreshold: 4096 });
    expect(written.externalDataFile).toBeDefined();
    expect(statSync(written.externalDataFile!).size).toBeGreaterThan(4 * 4096);

    const xData = new Float32Array(n * c * side * side).map((_, i) => Math.sin(i * 0.37) * 2);
    const memData = new Float32Array(n * 5 * outC).map((_, i) => Math.cos(i * 0.11));
    const session = await ort.InferenceSession.create(file);
    const result = await session.run({
      x: new ort.Tensor('float32', xData, [n, c, side, side]),
      memory: new ort.Tensor('float32', memData, [n, 5, outC]),
    });
    const actual = result.y!.data as Float32Array;
    expect(result.y!.dims).toEqual([n, side * side, outC]);

    const p = (name: string, shape: number[]): Float32Array => weights.read({ name, shape });
    let r = refConv({ data: Float64Array.from(xData), shape: [n, c, side, side] }, p('conv.weight', [outC, c, 3, 3]), p('conv.bias', [outC]), outC, 3);
    r = refGroupNorm(r, p('norm.weight', [outC]), p('norm.bias', [outC]), 32, 1e-6);
    r = map(r, (v) => v / (1 + Math.exp(-v)));
    const t = new Float64Array(r.data.length);
    for (let ni = 0; ni < n; ni++)
      for (let ci = 0; ci < outC; ci++)
        for (let s = 0; s < side * side; s++) t[(ni * side * side + s) * outC + ci] = r.data[(ni * outC + ci) * side * side + s]!;
    const ln = refLayerNorm({ data: t, shape: [n, side * side, outC] }, p('ln.weight', [outC]), p('ln.bias', [outC]), 1e-5);
    const kv = new Float64Array(n * (side * side + 5) * outC);
    for (let ni = 0; ni < n; ni++) {
      kv.set(ln.data.subarray(ni * side * side * outC, (ni + 1) * side * side * outC), ni * (side * side + 5) * outC);
      kv.set(Float64Array.from(memData.subarray(ni * 5 * outC, (ni + 1) * 5 * outC)), (ni * (side * side + 5) + side * side) * outC);
    }
    const kvT: Tensor = { data: kv, shape: [n, side * side + 5, outC] };
    const att = refAttention(
      refLinear(ln, p('to_q.weight', [outC, outC]), null, outC),
      refLinear(kvT, p('to_k.weight', [outC, outC]), null, outC),
      refLinear(kvT, p('to_v.weight', [outC, outC]), null, outC),
      heads,
    );
    const expected = map(refLinear(att, p('to_out.weight', [outC, outC]), p('to_out.bias', [outC]), outC), (v) => 0.5 * v * (1 + erf(v / Math.SQRT2)));

    let maxError = 0;
    let maxValue = 0;
    for (let i = 0; i < expected.data.length; i++) {
      maxError = Math.max(maxError, Math.abs(actual[i]! - expected.data[i]!));
      maxValue = Math.max(maxValue, Math.abs(expected.data[i]!));
    }
    expect(maxValue).toBeGreaterThan(0.5);
    expect(maxError / maxValue).toBeLessThan(1e-5);
  });

  it('gives each parameter the same random values whatever graph declares it', () => {
    const weights = new RandomWeights({ seed: 3, std: 0.2, biasStd: 0.05 });
    const a = weights.read({ name: 'block.norm.weight', shape: [64] });
    const b = weights.read({ name: 'block.norm.weight', shape: [64] });
    const matrix = weights.read({ name: 'block.proj.weight', shape: [64, 64] });
    expect(a).toEqual(b);
    const mean = a.reduce((s, v) => s + v, 0) / a.length;
    expect(mean).toBeGreaterThan(0.97);
    expect(mean).toBeLessThan(1.03);
    const std = Math.sqrt(matrix.reduce((s, v) => s + v * v, 0) / matrix.length);
    expect(std).toBeGreaterThan(0.19);
    expect(std).toBeLessThan(0.21);
  });
});
