/**
 * Fit benchmark: the Lee Perry-Smith scan rendered with render-views (32-view orbit + rings at
 * +25° and −20°, 8 held-out views) at 256² and 512², fitted for 300 s on the CPU backend, with
 * held-out PSNR/SSIM at 15/30/60/120/300 s of training (evaluation time excluded), samples/s and
 * peak memory.
 *
 *   npx tsx bench/fit.ts                       → bench/results/fit.json + one summary line
 *   HEAD3D_BENCH_SIZES=256 HEAD3D_BENCH_SECONDS=120 npx tsx bench/fit.ts
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
import { CpuBackend } from '../src/nerf/backends/cpu/cpu-backend.js';
import { DEFAULT_FIELD_CONFIG, parameterLayout } from '../src/nerf/field/config.js';
import { evaluateField } from '../src/nerf/train/evaluate.js';
import { FIT_DEFAULTS, fitField } from '../src/nerf/train/fit.js';
import { loadViewData } from '../src/nerf/train/view-data.js';

const sizes = (process.env.HEAD3D_BENCH_SIZES ?? '256,512').split(',').map(Number);
const budget = Number(process.env.HEAD3D_BENCH_SECONDS ?? 300);
const marks = [15, 30, 60, 120, 300, 600].filter((s) => s < budget).concat(budget);
const threads = Number(process.env.HEAD3D_BENCH_THREADS ?? cpus().length);
const data = resolve(import.meta.dirname, '../../shared/data/leeperrysmith');

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
  const backend = new CpuBackend(threads);
  const curve: { seconds: number; step: number; psnr: number; ssim: number; maskedPsnr: number; trainPsnr: number }[] = [];
  let nextMark = 0;
  let samples = 0;
  let trainingSeconds = 0;
  const result = await fitField(views, backend, {
    timeSeconds: budget,
    onStep: async (s) => {
      samples += s.samplesPerRay * FIT_DEFAULTS.raysPerStep;
      trainingSeconds = s.seconds;
      if (s.seconds >= marks[nextMark] || s.seconds >= budget) {
        const score = await evaluateField(backend, held);
        curve.push({ seconds: s.seconds, step: s.step, psnr: score.psnr, ssim: score.ssim, maskedPsnr: score.maskedPsnr, trainPsnr: s.trainPsnr });
        console.error(`fit bench ${size}²: ${s.seconds.toFixed(0)} s, step ${s.step}: held-out ${score.psnr.toFixed(2)} dB, SSIM ${score.ssim.toFixed(4)}`);
        while (nextMark < marks.length && s.seconds >= marks[nextMark]) nextMark++;
      }
    },
  });
  if (curve.length === 0 || curve[curve.length - 1].step !== result.state.step) {
    const score = await evaluateField(backend, held);
    curve.push({ seconds: result.seconds, step: result.state.step, psnr: score.psnr, ssim: score.ssim, maskedPsnr: score.maskedPsnr, trainPsnr: result.finalTrainPsnr });
  }
  await backend.close();
  sampleMemory();
  runs.push({
    size,
    views: train.frames.length,
    holdoutViews: held.frames.length,
    steps: result.state.step,
    trainingSeconds,
    samplesPerSecond: result.samples / trainingSeconds,
    samplesPerRay: result.samples / (result.state.step * FIT_DEFAULTS.raysPerStep),
    curve,
  });
}
clearInterval(memoryTimer);

const result = {
  bench: 'fit',
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version, threads },
  config: DEFAULT_FIELD_CONFIG,
  parameters: parameterLayout(DEFAULT_FIELD_CONFIG).total,
  fit: { ...FIT_DEFAULTS, budgetSeconds: budget },
  peakRssMiB: peakRss / 2 ** 20,
  runs,
};
await writeFileAtomic(resolve(import.meta.dirname, 'results/fit.json'), `${JSON.stringify(result, null, 2)}\n`);
console.log(
  'fit: ' +
    runs
      .map((r) => {
        const at = (s: number) => r.curve.find((c) => c.seconds >= s - 1) ?? r.curve[r.curve.length - 1];
        return `${r.size}² held-out ${at(120).psnr.toFixed(2)} dB @120 s, ${r.curve[r.curve.length - 1].psnr.toFixed(2)} dB @${budget} s (SSIM ${r.curve[r.curve.length - 1].ssim.toFixed(3)}), ${Math.round(r.samplesPerSecond / 1000)}k samples/s`;
      })
      .join('; ') +
    `; peak RSS ${Math.round(result.peakRssMiB)} MiB`,
);
