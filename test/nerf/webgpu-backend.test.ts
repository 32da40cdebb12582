import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRandom } from '../../src/core/random.js';
import { readTransformsJson } from '../../src/core/transforms-json.js';
import { renderViews } from '../../src/eval/render-views.js';
import type { AdamSettings, BackendSetup } from '../../src/nerf/backends/backend.js';
import { CpuBackend } from '../../src/nerf/backends/cpu/cpu-backend.js';
import { createBackend } from '../../src/nerf/backends/create-backend.js';
import { readFloats, storageBuffer, uniformBuffer, uploadBuffer } from '../../src/nerf/backends/webgpu/buffers.js';
import { type GpuContext, acquireGpu } from '../../src/nerf/backends/webgpu/device.js';
import { compileKernel, dispatch } from '../../src/nerf/backends/webgpu/pipelines.js';
import { WebGpuBackend } from '../../src/nerf/backends/webgpu/webgpu-backend.js';
import { adamUniformWords, adamWgsl } from '../../src/nerf/backends/webgpu/wgsl/adam.js';
import { type FieldConfig, parameterLayout } from '../../src/nerf/field/config.js';
import { FieldKernels, initParameters } from '../../src/nerf/field/field.js';
import { type OccupancyGrid, createOccupancyGrid, refreshOccupied } from '../../src/nerf/render/occupancy.js';
import { CAMERA_STRIDE, packCamera } from '../../src/nerf/render/rays.js';
import { adamStep } from '../../src/nerf/train/adam.js';
import { evaluateField } from '../../src/nerf/train/evaluate.js';
import { ADAM_DEFAULTS, FIT_DEFAULTS, fitField } from '../../src/nerf/train/fit.js';
import { type ViewData, loadViewData } from '../../src/nerf/train/view-data.js';
import { texturedSphere } from '../helpers/procedural.js';

/**
 * The WebGPU fit backend against the CPU backend (the reference) on whatever adapter
 * acquireGpu picks — in CI Mesa's llvmpipe, so the field is tiny (its kernels compile in seconds
 * there). With the same seed both backends draw the same rays (WebGpuBackend draws them as
 * CpuBackend(1) does), so a step can be compared number for number. Tolerances and what llvmpipe
 * measured (printed at the end): Adam kernel parameters within 1e-4·lr (6e-6·lr), moments 1e-6
 * relative (1e-7); a step's squared error 1e-5 relative (≤ 5e-7); after five steps parameters
 * within 1e-2·lr (7e-4·lr) and moments 1e-3 relative (1e-5); occupancy densities 1e-5 (3e-6);
 * rendered pixels 1e-4 absolute (1e-6); a 60-step fit the same held-out PSNR within 0.5 dB
 * (identical to 0.01 dB). The margins are for GPUs, whose exp and division may round differently.
 */

// Level resolutions 4, 9, 19: two dense levels and one hashed into 1024 entries.
const config: FieldConfig = {
  encoding: { levels: 3, featuresPerLevel: 2, log2TableSize: 10, baseResolution: 4, finestResolution: 19 },
  densityHidden: [8],
  geometryFeatures: 4,
  colorHidden: [8],
  shDegree: 2,
  boundsMin: [-0.5, -0.5, -0.5],
  boundsMax: [0.5, 0.5, 0.5],
};

const measured: Record<string, number | string> = {};
const record = (name: string, value: number): number => ((measured[name] = Number(value.toPrecision(2))), value);

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let error = 0;
  for (let i = 0; i < a.length; i++) error = Math.max(error, Math.abs(a[i] - b[i]));
  return error;
}

function maxOf(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

function sharedGrid(resolution: number): OccupancyGrid {
  return createOccupancyGrid(resolution, config.boundsMin, config.boundsMax, (bytes) => new SharedArrayBuffer(bytes));
}

function copyGrid(grid: OccupancyGrid): OccupancyGrid {
  const copy = sharedGrid(grid.resolution);
  copy.density.set(grid.density);
  copy.carved.set(grid.carved);
  copy.occupied.set(grid.occupied);
  return copy;
}

describe('WebGPU fit backend matches the CPU backend', () => {
  let gpu: GpuContext;
  let dir: string;
  let views: ViewData;

  beforeAll(async () => {
    gpu = await acquireGpu();
    dir = await mkdtemp(join(tmpdir(), 'h3d-webgpu-'));
    await renderViews(texturedSphere(0.2), dir, { size: 32, frames: 12, elevations: [30], holdout: 3, supersample: 2 });
    views = await loadViewData(await readTransformsJson(join(dir, 'transforms.json')));
  }, 180_000);

  afterAll(() => {
    console.log(`webgpu backend on ${gpu?.label}: ${JSON.stringify(measured)}`);
    gpu?.device.destroy();
  });

  it('createBackend: cpu, webgpu on any adapter, auto only on a hardware GPU', async () => {
    const cpu = await createBackend('cpu', 1);
    expect(cpu.name).toBe('cpu');
    await cpu.close();
    const webgpu = await createBackend('webgpu');
    expect(webgpu.name).toBe('webgpu');
    await webgpu.close();
    const auto = await createBackend('auto', 1);
    expect(auto.name).toBe(gpu.kind === 'gpu' ? 'webgpu' : 'cpu');
    await auto.close();
  });

  it('Adam kernel matches adamStep (random inputs; hash entries with zero gradient skipped)', async () => {
    const d = gpu.device;
    const n = 5000, encodingSize = 3000, step = 3;
    const random = createRandom(11);
    const settings: AdamSettings = { ...ADAM_DEFAULTS, learningRate: 1e-2 };
    const params = new Float32Array(n).map(() => random() * 2 - 1);
    const m = new Float32Array(n).map(() => (random() - 0.5) * 0.02);
    const v = new Float32Array(n).map(() => random() * 1e-4);
    // Gradients over six decades, a third of the hash entries exactly zero (untouched).
    const grads = new Float32Array(n).map((_, i) => (i < encodingSize && random() < 1 / 3 ? 0 : (random() - 0.5) * 10 ** (-6 * random())));
    const kernel = await compileKernel(d, 'adam', adamWgsl());
    const buffers = [params, m, v, grads].map((a) => uploadBuffer(d, a));
    const encoder = d.createCommandEncoder();
    const pass = encoder.beginComputePass();
    dispatch(d, pass, kernel, [uniformBuffer(d, adamUniformWords(n, encodingSize, step, settings)), ...buffers], 16);
    pass.end();
    d.queue.submit([encoder.finish()]);
    const [gotParams, gotM, gotV, gotGrads] = await Promise.all(buffers.map((b) => readFloats(d, b, n)));

    const cpuParams = params.slice(), cpuM = m.slice(), cpuV = v.slice();
    adamStep(cpuParams, cpuM, cpuV, [grads.slice()], 0, n, encodingSize, step, settings);
    // Every step moves a parameter by about lr·m̂/√v̂, so parameter errors are stated relative to lr.
    expect(record('adamKernelParamsVsLr', maxAbs(gotParams, cpuParams) / settings.learningRate)).toBeLessThan(1e-4);
    expect(record('adamKernelM', maxAbs(gotM, cpuM) / maxOf(cpuM))).toBeLessThan(1e-6);
    expect(record('adamKernelV', maxAbs(gotV, cpuV) / maxOf(cpuV))).toBeLessThan(1e-6);
    expect(maxOf(gotGrads)).toBe(0);
    for (let i = 0; i < encodingSize; i++) {
      if (grads[i] !== 0) continue;
      expect([gotParams[i], gotM[i], gotV[i]]).toEqual([params[i], m[i], v[i]]);
    }
  });

  it('trainStep, updateOccupancy and render match the CPU backend step for step', async () => {
    const kernels = new FieldKernels(config);
    const params = new Float32Array(parameterLayout(config).total);
    initParameters(kernels, createRandom(5), params, 2);
    const gridCpu = sharedGrid(16);
    const gridGpu = copyGrid(gridCpu);
    const march = FIT_DEFAULTS.march;
    const setup = (grid: OccupancyGrid): BackendSetup => ({ config, march, params, grid, views });
    const cpu = new CpuBackend(1);
    const webgpu = await WebGpuBackend.create({ gpu });
    try {
      await cpu.setup(setup(gridCpu));
      await webgpu.setup(setup(gridGpu));
      measured.compileMs = Math.round(webgpu.compileMs);
      const adam = { ...ADAM_DEFAULTS, learningRate: 1e-2 };
      const step = async (n: number, loss: 'l2' | 'huber') => {
        const request = { step: n, rays: 384, seed: 3, loss, adam };
        const [a, b] = [await cpu.trainStep(request), await webgpu.trainStep(request)];
        expect(b.rays).toBe(a.rays);
        expect(Math.abs(b.samples - a.samples)).toBeLessThanOrEqual(Math.ceil(a.samples * 1e-3));
        expect(a.samples).toBeGreaterThan(a.rays);
        expect(record(`squaredError${n}`, Math.abs(b.squaredError - a.squaredError) / a.squaredError)).toBeLessThan(1e-5);
      };
      for (let n = 1; n <= 3; n++) await step(n, 'l2');
      await step(4, 'huber');

      // After the occupancy update half the box is empty: a step then skips unoccupied cells.
      await cpu.updateOccupancy({ step: 4, seed: 9, decay: 0.95 });
      await webgpu.updateOccupancy({ step: 4, seed: 9, decay: 0.95 });
      expect(record('occupancyDensity', maxAbs(gridGpu.density, gridCpu.density) / maxOf(gridCpu.density))).toBeLessThan(1e-5);
      const sorted = Float32Array.from(gridCpu.density).sort();
      const threshold = sorted[Math.floor(sorted.length / 2)];
      const occupied = refreshOccupied(gridCpu, threshold);
      expect(refreshOccupied(gridGpu, threshold)).toBeGreaterThan(0);
      let differing = 0;
      for (let i = 0; i < gridCpu.occupied.length; i++) differing += gridCpu.occupied[i] === gridGpu.occupied[i] ? 0 : 1;
      expect(differing).toBeLessThanOrEqual(2); // a cell whose density sits on the threshold to the last bit
      gridGpu.occupied.set(gridCpu.occupied);
      expect(occupied).toBeLessThan(0.6 * gridCpu.occupied.length);
      await step(5, 'l2');

      const [a, b] = [await cpu.snapshot(), await webgpu.snapshot()];
      expect(record('paramsVsLr', maxAbs(b.params, a.params) / adam.learningRate)).toBeLessThan(1e-2);
      expect(record('adamM', maxAbs(b.adamM, a.adamM) / maxOf(a.adamM))).toBeLessThan(1e-3);
      expect(record('adamV', maxAbs(b.adamV, a.adamV) / maxOf(a.adamV))).toBeLessThan(1e-3);

      const camera = new Float64Array(CAMERA_STRIDE);
      const held = await readTransformsJson(join(dir, 'holdout', 'transforms.json'));
      packCamera(held.frames[0].camera, camera, 0);
      const size = held.frames[0].camera.intrinsics.width;
      const [ra, rb] = [await cpu.render(camera, size, size, [0.2, 0.4, 0.6]), await webgpu.render(camera, size, size, [0.2, 0.4, 0.6])];
      expect(record('render', maxAbs(rb, ra))).toBeLessThan(1e-4);
    } finally {
      await cpu.close();
      await webgpu.close();
    }
  });

  it('a short fit reaches the CPU backend’s held-out PSNR within 0.5 dB', async () => {
    const held = await readTransformsJson(join(dir, 'holdout', 'transforms.json'));
    const options = { config, steps: 60, raysPerStep: 512, seed: 7, occupancyResolution: 32, occupancyWarmup: 16, learningRate: 5e-2 };
    const scores: number[] = [];
    for (const make of [() => Promise.resolve(new CpuBackend(1)), () => WebGpuBackend.create({ gpu })]) {
      const backend = await make();
      try {
        const started = performance.now();
        const result = await fitField(views, backend, options);
        const seconds = (performance.now() - started) / 1000;
        const score = await evaluateField(backend, held);
        measured[`fit-${backend.name}`] = `${score.psnr.toFixed(2)} dB, ${seconds.toFixed(1)} s, ${result.samples} samples`;
        scores.push(score.psnr);
      } finally {
        await backend.close();
      }
    }
    const untrained = new CpuBackend(1);
    try {
      await fitField(views, untrained, { ...options, steps: 0 });
      const before = (await evaluateField(untrained, held)).psnr;
      measured.untrained = Number(before.toFixed(2));
      expect(scores[0]).toBeGreaterThan(before + 3); // the fit learned something, so agreement means something
    } finally {
      await untrained.close();
    }
    expect(Math.abs(scores[1] - scores[0])).toBeLessThan(0.5);
  });
});
