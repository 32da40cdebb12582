import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FieldConfig } from '../../src/nerf/field/config.js';
import { FieldKernels } from '../../src/nerf/field/field.js';
import { compositeBackward, compositeForward } from '../../src/nerf/render/volume.js';
import { type GpuContext, acquireGpu } from '../../src/nerf/backends/webgpu/device.js';
import { readFloats, storageBuffer, uploadBuffer } from '../../src/nerf/backends/webgpu/buffers.js';
import { GpuField, type RayBuffers, type SampleBuffers } from '../../src/nerf/backends/webgpu/gpu-field.js';
import { createRandom as mulberry32 } from '../../src/core/random.js';
import { relativeMaxError } from '../helpers/numeric.js';

/**
 * Each WGSL kernel against the CPU reference (FieldKernels, volume.ts) evaluated in float64 on the
 * same float32 inputs. Seeds are fixed, so the only run-to-run variation is the order of the
 * hash-gradient CAS adds (last-bit differences). Runs on whatever adapter acquireGpu picks; in CI
 * that is Mesa's llvmpipe through OpenGL ES (see docs in device.ts), so the config is tiny.
 * Tolerances: max error relative to the largest reference value ≤ 1e-5 (measured 2e-7 to 8e-7 on
 * llvmpipe; the margin is for GPUs' faster exp/division), and per element ≤ 1e-3 relative with a
 * floor of 1e-3 of the largest value (measured 6e-6 for MLP weights, 6e-5 for hash entries).
 */

// Level resolutions 2, 5, 13: two dense levels and one hashed into 256 entries; two colour layers.
const config: FieldConfig = {
  encoding: { levels: 3, featuresPerLevel: 2, log2TableSize: 8, baseResolution: 2, finestResolution: 13 },
  densityHidden: [8],
  geometryFeatures: 4,
  colorHidden: [8, 6],
  shDegree: 3,
  boundsMin: [-1, -1, -1],
  boundsMax: [1, 1, 1],
};

/** Samples: not a multiple of the workgroup (64) nor of the weight-gradient chunk (256). */
const N = 613;

/** Largest elementwise |a − b| / (|b| + floor·max|b|): catches small entries being wrong too. */
function elementwiseError(a: ArrayLike<number>, b: ArrayLike<number>, floor = 1e-3): number {
  let scale = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  let error = 0;
  for (let i = 0; i < b.length; i++) error = Math.max(error, Math.abs(a[i] - b[i]) / (Math.abs(b[i]) + floor * scale));
  return error;
}

describe('WebGPU kernels match the CPU reference', () => {
  let gpu: GpuContext;
  let field: GpuField;
  const kernels = new FieldKernels(config);
  const random = mulberry32(2024);
  // Hash entries of ±0.5 and He-scaled weights keep activations O(1) and ReLUs mixed.
  const params = new Float32Array(kernels.layout.total).map((_, i) => (random() * 2 - 1) * (i < kernels.layout.encodingSize ? 0.5 : 0.8));
  const units = new Float32Array(N * 3).map(() => random());
  const dirs = new Float32Array(N * 3);
  for (let s = 0; s < N; s++) {
    const d = [random() - 0.5, random() - 0.5, random() - 0.5];
    const norm = Math.hypot(d[0], d[1], d[2]);
    for (let k = 0; k < 3; k++) dirs[s * 3 + k] = d[k] / norm;
  }
  const dOut = new Float32Array(N * 4).map((_, i) => (i % 4 === 0 ? 0.05 : 1) * (random() - 0.5));
  const params64 = Float64Array.from(params);

  // CPU reference, float64.
  const tape = new Float64Array(N * kernels.tapeStride);
  const sigma = new Float64Array(N);
  const cpuGrads = new Float64Array(params.length);
  const scratch = new Float64Array(kernels.backwardScratchSize);
  for (let s = 0; s < N; s++) {
    sigma[s] = kernels.forward(params64, units[s * 3], units[s * 3 + 1], units[s * 3 + 2], dirs[s * 3], dirs[s * 3 + 1], dirs[s * 3 + 2], tape, s * kernels.tapeStride);
  }
  for (let s = 0; s < N; s++) {
    kernels.backward(params64, cpuGrads, tape, s * kernels.tapeStride, units[s * 3], units[s * 3 + 1], units[s * 3 + 2],
      dOut[s * 4], dOut[s * 4 + 1], dOut[s * 4 + 2], dOut[s * 4 + 3], scratch);
  }

  let buffers: SampleBuffers;
  let paramsBuffer: GPUBuffer;
  let gradsBuffer: GPUBuffer;
  let gpuTape: Float32Array;
  let gpuOut: Float32Array;
  let gpuGrads: Float32Array;

  beforeAll(async () => {
    gpu = await acquireGpu();
    field = await GpuField.compile(gpu.device, config);
    console.log(`webgpu parity on ${gpu.label} (${gpu.kind}, ${gpu.backend}); compile ms ${JSON.stringify(field.compileTimes)}`);
    const d = gpu.device;
    const layout = field.layout;
    paramsBuffer = uploadBuffer(d, params);
    gradsBuffer = storageBuffer(d, params.length);
    buffers = {
      units: uploadBuffer(d, units), dirs: uploadBuffer(d, dirs), tape: storageBuffer(d, N * layout.tapeStride),
      out: storageBuffer(d, N * 4), dOut: uploadBuffer(d, dOut), deltas: storageBuffer(d, N * layout.deltaStride),
      partials: storageBuffer(d, field.partialWords(N)),
    };
    const encoder = d.createCommandEncoder();
    const pass = encoder.beginComputePass();
    field.encodeForward(pass, paramsBuffer, buffers, N);
    field.mlpForward(pass, paramsBuffer, buffers, N);
    field.backward(pass, paramsBuffer, gradsBuffer, buffers, N);
    pass.end();
    d.queue.submit([encoder.finish()]);
    gpuTape = await readFloats(d, buffers.tape, N * layout.tapeStride);
    gpuOut = await readFloats(d, buffers.out, N * 4);
    gpuGrads = await readFloats(d, gradsBuffer, params.length);
  });

  /** Measured errors, printed once so a CI log records how close each kernel came. */
  const measured: Record<string, number> = {};
  const record = (name: string, value: number): number => ((measured[name] = Number(value.toPrecision(2))), value);

  afterAll(() => {
    console.log(`webgpu parity errors ${JSON.stringify(measured)}`);
    gpu?.device.destroy();
  });

  it('uses the CPU tape layout', () => {
    expect(field.layout.tapeStride).toBe(kernels.tapeStride);
    expect(field.layout.geometryOffset).toBe(kernels.geometryOffset);
    expect(kernels.layout.levels.map((l) => l.dense)).toEqual([true, true, false]);
  });

  it('hash encoding forward', () => {
    const width = kernels.encodedWidth, stride = kernels.tapeStride;
    const cpu: number[] = [], got: number[] = [];
    for (let s = 0; s < N; s++) for (let k = 0; k < width; k++) { cpu.push(tape[s * stride + k]); got.push(gpuTape[s * stride + k]); }
    expect(record('encode', relativeMaxError(got, cpu))).toBeLessThan(1e-5);
  });

  it('MLP forward: every tape activation, σ and rgb', () => {
    expect(record('tape', relativeMaxError(gpuTape, tape))).toBeLessThan(1e-5);
    const gotSigma = Array.from({ length: N }, (_, s) => gpuOut[s * 4]);
    expect(record('sigma', elementwiseError(gotSigma, sigma))).toBeLessThan(1e-5);
    const cpuRgb: number[] = [], gotRgb: number[] = [];
    for (let s = 0; s < N; s++) for (let k = 0; k < 3; k++) { cpuRgb.push(kernels.rgb(tape, s * kernels.tapeStride, k)); gotRgb.push(gpuOut[s * 4 + 1 + k]); }
    expect(record('rgb', relativeMaxError(gotRgb, cpuRgb))).toBeLessThan(1e-5);
  });

  it('MLP backward: weight and bias gradients (per-workgroup reduction)', () => {
    const from = kernels.layout.encodingSize;
    const got = gpuGrads.subarray(from), cpu = cpuGrads.subarray(from);
    expect(record('mlpGrad', relativeMaxError(got, cpu))).toBeLessThan(1e-5);
    expect(record('mlpGradElementwise', elementwiseError(got, cpu))).toBeLessThan(1e-3);
  });

  it('hash encoding backward: table gradients (CAS scatter)', () => {
    const size = kernels.layout.encodingSize;
    const got = gpuGrads.subarray(0, size), cpu = cpuGrads.subarray(0, size);
    expect(record('hashGrad', relativeMaxError(got, cpu))).toBeLessThan(1e-5);
    expect(record('hashGradElementwise', elementwiseError(got, cpu))).toBeLessThan(1e-3);
    expect(cpu.filter((g) => g !== 0).length).toBeGreaterThan(0.9 * size); // 613 samples touch nearly every entry
  });

  it('volume compositing forward and backward', async () => {
    const d = gpu.device;
    const rng = mulberry32(99);
    const rays = 150;
    const counts = Array.from({ length: rays }, (_, r) => (r % 17 === 0 ? 0 : 1 + Math.floor(rng() * 40)));
    const total = counts.reduce((a, b) => a + b, 0);
    const ranges = new Uint32Array(rays * 2);
    for (let r = 0, start = 0; r < rays; start += counts[r], r++) { ranges[2 * r] = start; ranges[2 * r + 1] = counts[r]; }
    const samples = new Float32Array(total * 4).map((_, i) => (i % 4 === 0 ? rng() * 40 : rng()));
    const deltas = new Float32Array(total).map(() => 0.005 + rng() * 0.03);
    const background = new Float32Array(rays * 3).map(() => rng());
    const dComposite = new Float32Array(rays * 4).map(() => rng() - 0.5);
    const r: RayBuffers = {
      ranges: uploadBuffer(d, ranges), deltas: uploadBuffer(d, deltas), background: uploadBuffer(d, background),
      weights: storageBuffer(d, total), composite: storageBuffer(d, rays * 4), dComposite: uploadBuffer(d, dComposite),
    };
    const sampleBuffer = uploadBuffer(d, samples);
    const dSamples = storageBuffer(d, total * 4);
    const encoder = d.createCommandEncoder();
    const pass = encoder.beginComputePass();
    field.compositeForward(pass, sampleBuffer, r, rays);
    field.compositeBackward(pass, sampleBuffer, r, dSamples, rays);
    pass.end();
    d.queue.submit([encoder.finish()]);
    const gotComposite = await readFloats(d, r.composite, rays * 4);
    const gotWeights = await readFloats(d, r.weights, total);
    const gotD = await readFloats(d, dSamples, total * 4);

    const cpuComposite = new Float64Array(rays * 4), cpuWeights = new Float64Array(total), cpuD = new Float64Array(total * 4);
    for (let ray = 0; ray < rays; ray++) {
      const start = ranges[2 * ray], n = counts[ray];
      const sigma = new Float64Array(n), rgb = new Float64Array(n * 3);
      for (let i = 0; i < n; i++) { sigma[i] = samples[(start + i) * 4]; for (let k = 0; k < 3; k++) rgb[i * 3 + k] = samples[(start + i) * 4 + 1 + k]; }
      const delta = Float64Array.from(deltas.subarray(start, start + n));
      const bg = background.subarray(ray * 3, ray * 3 + 3);
      const out = new Float64Array(4), weights = new Float64Array(n);
      compositeForward(n, sigma, rgb, delta, bg, out, weights);
      cpuComposite.set(out, ray * 4);
      cpuWeights.set(weights, start);
      const dSigma = new Float64Array(n), dRgb = new Float64Array(n * 3);
      const dc = dComposite.subarray(ray * 4, ray * 4 + 3);
      compositeBackward(n, rgb, delta, bg, weights, 1 - out[3], dc, dComposite[ray * 4 + 3], dSigma, dRgb);
      for (let i = 0; i < n; i++) { cpuD[(start + i) * 4] = dSigma[i]; for (let k = 0; k < 3; k++) cpuD[(start + i) * 4 + 1 + k] = dRgb[i * 3 + k]; }
    }
    expect(record('composite', relativeMaxError(gotComposite, cpuComposite))).toBeLessThan(1e-5);
    expect(record('weights', relativeMaxError(gotWeights, cpuWeights))).toBeLessThan(1e-5);
    expect(record('dSample', relativeMaxError(gotD, cpuD))).toBeLessThan(1e-5);
    expect(cpuComposite.filter((_, i) => i % 4 === 3 && _ > 0.5).length).toBeGreaterThan(rays / 3); // real occlusion
  });
});
