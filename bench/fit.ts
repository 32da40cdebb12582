/**
 * Fit benchmark: the Lee Perry-Smith scan rendered with render-views (32-view orbit + rings at
 * +25° and −20°, 8 held-out views) at 256² and 512², fitted for 300 s on each backend asked for,
 * with held-out PSNR/SSIM at 15/30/60/120/300 s of training (evaluation and kernel compile time
 * excluded; compile time is reported on its own), samples/s (samples the CPU marcher would take)
 * and peak memory. With several backends the summary gives the samples/s ratio and the PSNR each
 * reached at the same training time.
 *
 *   npx tsx bench/fit.ts                       → bench/results/fit.json + one summary line
 *   HEAD3D_BENCH_SIZES=256 HEAD3D_BENCH_SECONDS=120 npx tsx bench/fit.ts
 *   HEAD3D_BENCH_BACKENDS=cpu,webgpu npx tsx bench/fit.ts          → bench/results/fit-backends.json
 *   HEAD3D_BENCH_CONFIG=tiny …   a tiny field (3 levels, 8-wide MLPs) whose WGSL compiles in seconds
 *                                on Mesa's llvmpipe; the default config's kernels take minutes there
 */
import { existsSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../src/core/atomic.js';
import { readTransformsJson } from '../src/core/transforms-json.js';
import { loadTexturedMesh } from '../src/eval/load-mesh.js';
import { transformMesh } from '../src/eval/mesh.js';
import { normalizeHead } from '../src/eval/normalize-head.js';
import { renderViews } from '../src/eval/render-views.js';
import type { FitBackend } from '../src/nerf/backends/backend.js';
import { CpuBackend } from '../src/nerf/backends/cpu/cpu-backend.js';
import { WebGpuBackend } from '../src/nerf/backends/webgpu/webgpu-backend.js';
import { DEFAULT_FIELD_CONFIG, type FieldConfig, parameterLayout } from '../src/nerf/field/config.js';
import { evaluateField } from '../src/nerf/train/evaluate.js';
import { FIT_DEFAULTS, fitField } from '../src/nerf/train/fit.js';
import { loadViewData } from '../src/nerf/train/view-data.js';

const sizes = (process.env.HEAD3D_BENCH_SIZES ?? '256,512').split(',').map(Number);
const budget = Number(process.env.HEAD3D_BENCH_SECONDS ?? 300);
const marks = [15, 30, 60, 120, 300, 600].filter((s) => s < budget).concat(budget);
const threads = Number(process.env.HEAD3D_BENCH_THREADS ?? cpus().length);
const data = resolve(import.meta.dirname, '../../shared/data/leeperrysmith');
const backends = (process.env.HEAD3D_BENCH_BACKENDS ?? 'cpu').split(',');
const TINY_CONFIG: FieldConfig = {
  encoding: { levels: 3, featuresPerLevel: 2, log2TableSize: 10, baseResolution: 4, finestResolution: 19 },
  densityHidden: [8], geometryFeatures: 4, colorHidden: [8], shDegree: 2,
  boundsMin: DEFAULT_FIELD_CONFIG.boundsMin, boundsMax: DEFAULT_FIELD_CONFIG.boundsMax,
};
const configName = process.env.HEAD3D_BENCH_CONFIG ?? 'default';
const config = configName === 'tiny' ? TINY_CONFIG : DEFAULT_FIELD_CONFIG;
const raysPerStep = Number(process.env.HEAD3D_BENCH_RAYS ?? FIT_DEFAULTS.raysPerStep);

async function openBackend(name: string): Promise<FitBackend> {
  if (name === 'cpu') return new CpuBackend(threads);
  if (name === 'webgpu') return WebGpuBackend.create();
  throw new Error(`fit bench: unknown backend ${name}`);
}

async function viewSet(size: number): Promise<string> {
  const dir = join(tmpdir(), `head3d-bench-lps-${size}`);
  if (!existsSync(join(dir, 'holdout', 'transforms.json'))) {
    const raw = await loadTexturedMesh(join(data, 'LeePerrySmith.glb'), { texture: join(data, 'Map-COL.jpg'), flipV: true });
    await renderViews(transformMesh(raw, normalizeHead(raw).matrix), dir, { size, elevations: [25, -20], holdout: 8 });
  }
  return dir;
}

let peakRss = 0;
const sampleMemory = () => (peakRss = Math.max(peakRss, process.memoryUsage().rss));
const memoryTimer = setInterval(sampleMemory, 250);

const runs = [];
for (const size of sizes) {
  const dir = await viewSet(size);
  const train = await readTransformsJson(join(dir, 'transforms.json'));
  const held = await readTransformsJson(join(dir, 'holdout', 'transforms.json'));
  const views = await loadViewData(train);
  for (const backendName of backends) {
    const backend = await openBackend(backendName);
    const curve: { seconds: number; step: number; psnr: number; ssim: number; maskedPsnr: number; trainPsnr: number }[] = [];
    let nextMark = 0;
    let trainingSeconds = 0;
    const wallStart = performance.now();
    const result = await fitField(views, backend, {
      config,
      raysPerStep,
      timeSeconds: budget,
      onStep: async (s) => {
        trainingSeconds = s.seconds;
        if (s.seconds >= marks[nextMark] || s.seconds >= budget) {
          const score = await evaluateField(backend, held);
          curve.push({ seconds: s.seconds, step: s.step, psnr: score.psnr, ssim: score.ssim, maskedPsnr: score.maskedPsnr, trainPsnr: s.trainPsnr });
          console.error(`fit bench ${size}² ${backendName}: ${s.seconds.toFixed(0)} s, step ${s.step}: held-out ${score.psnr.toFixed(2)} dB, SSIM ${score.ssim.toFixed(4)}`);
          while (nextMark < marks.length && s.seconds >= marks[nextMark]) nextMark++;
        }
      },
    });
    if (curve.length === 0 || curve[curve.length - 1].step !== result.state.step) {
      const score = await evaluateField(backend, held);
      curve.push({ seconds: result.seconds, step: result.state.step, psnr: score.psnr, ssim: score.ssim, maskedPsnr: score.maskedPsnr, trainPsnr: result.finalTrainPsnr });
    }
    const wallSeconds = (performance.now() - wallStart) / 1000;
    const device = backend instanceof WebGpuBackend
      ? { adapter: backend.adapter, compileSeconds: backend.compileMs / 1000, kernelCompileMs: backend.compileTimes, probedPerUsedSample: backend.sampleCounts.marched / backend.sampleCounts.used }
      : { threads: backend.threads };
    await backend.close();
    sampleMemory();
    runs.push({
      size,
      backend: backendName,
      ...device,
      views: train.frames.length,
      holdoutViews: held.frames.length,
      steps: result.state.step,
      trainingSeconds,
      wallSeconds,
      samplesPerSecond: result.samples / trainingSeconds,
      samplesPerRay: result.samples / (result.state.step * raysPerStep),
      curve,
    });
  }
}
clearInterval(memoryTimer);

/** The point of a run's curve nearest to `seconds` of training (marks land a step or two late). */
const psnrAt = (r: (typeof runs)[number], seconds: number) =>
  r.curve.reduce((best, c) => (Math.abs(c.seconds - seconds) < Math.abs(best.seconds - seconds) ? c : best));
const comparisons = sizes.flatMap((size) => {
  const cpu = runs.find((r) => r.size === size && r.backend === 'cpu');
  return runs
    .filter((r) => r.size === size && r.backend !== 'cpu' && cpu)
    .map((r) => {
      const at = Math.min(r.trainingSeconds, cpu!.trainingSeconds);
      return {
        size, backend: r.backend, samplesPerSecondRatio: r.samplesPerSecond / cpu!.samplesPerSecond,
        atSeconds: at, psnr: psnrAt(r, at).psnr, cpuPsnr: psnrAt(cpu!, at).psnr,
      };
    });
});

const result = {
  bench: 'fit',
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version, threads },
  configName,
  config,
  parameters: parameterLayout(config).total,
  fit: { ...FIT_DEFAULTS, raysPerStep, budgetSeconds: budget },
  peakRssMiB: peakRss / 2 ** 20,
  runs,
  comparisons,
};
const single = backends.length === 1 && backends[0] === 'cpu' && configName === 'default';
await writeFileAtomic(resolve(import.meta.dirname, `results/${single ? 'fit' : 'fit-backends'}.json`), `${JSON.stringify(result, null, 2)}\n`);
console.log(
  'fit: ' +
    runs
      .map((r) => {
        const at = (s: number) => r.curve.find((c) => c.seconds >= s - 1) ?? r.curve[r.curve.length - 1];
        const compile = 'compileSeconds' in r ? `, compile ${(r.compileSeconds as number).toFixed(1)} s, ${(r.probedPerUsedSample as number).toFixed(1)} probed per used sample` : '';
        return `${r.size}² ${r.backend}: held-out ${at(120).psnr.toFixed(2)} dB @120 s, ${r.curve[r.curve.length - 1].psnr.toFixed(2)} dB @${budget} s (SSIM ${r.curve[r.curve.length - 1].ssim.toFixed(3)}), ${Math.round(r.samplesPerSecond / 1000)}k samples/s${compile}`;
      })
      .join('; ') +
    comparisons.map((c) => `; ${c.size}² ${c.backend}/cpu samples/s ×${c.samplesPerSecondRatio.toFixed(2)}, at ${c.atSeconds.toFixed(0)} s ${c.psnr.toFixed(2)} vs ${c.cpuPsnr.toFixed(2)} dB`).join('') +
    `; peak RSS ${Math.round(result.peakRssMiB)} MiB`,
);
