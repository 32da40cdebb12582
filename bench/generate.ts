/**
 * DiffPortrait360 generation speed and memory: per DDIM step (back view, orbit), per frame, per graph
 * call, and peak RSS, on a model bundle (HEAD3D_BENCH_BUNDLE, e.g. one made by `head3d models random
 * --full`), else on a tiny random bundle written to a temporary folder (reduced size: the CPU numbers
 * then say little about the full model; the summary line says which).
 *
 *   npx tsx bench/generate.ts                       → bench/results/generate.json + one summary line
 *   HEAD3D_BENCH_BUNDLE=<bundle> HEAD3D_BENCH_STEPS=50 HEAD3D_BENCH_PROVIDER=cuda npx tsx bench/generate.ts
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../src/core/atomic.js';
import { createImage } from '../src/core/image.js';
import { loadBundle } from '../src/generate/diffportrait360/bundle.js';
import { generateViews, loadDiffusionModels } from '../src/generate/diffportrait360/generate-views.js';
import { buildGraph } from '../src/generate/diffportrait360/networks/graphs.js';
import { writeRandomBundle } from '../src/generate/diffportrait360/random-bundle.js';
import { type ProviderChoice, createOnnxRuntime } from '../src/generate/diffportrait360/runtime/onnx-runtime.js';
import type { DiffusionRuntime } from '../src/generate/diffportrait360/runtime/tensor.js';

const steps = Number(process.env.HEAD3D_BENCH_STEPS ?? 10);
const threads = Number(process.env.HEAD3D_BENCH_THREADS ?? availableParallelism());
const provider = (process.env.HEAD3D_BENCH_PROVIDER ?? 'auto') as ProviderChoice;
let bundleDir = process.env.HEAD3D_BENCH_BUNDLE;
let scratch: string | undefined;
if (!bundleDir) {
  scratch = await mkdtemp(join(tmpdir(), 'h3d-bench-generate-'));
  bundleDir = join(scratch, 'tiny');
  await writeRandomBundle(bundleDir, { size: 'tiny', seed: 1, unetGraphs: buildGraph });
}

const bundle = await loadBundle(bundleDir, { verify: 'none' });
const onnx = await createOnnxRuntime(bundle, { provider, threads, onNote: (line) => console.error(line) });
// Time every graph call, grouped by model/graph and batch.
const calls: Record<string, { count: number; seconds: number }> = {};
let loadSeconds = 0;
const runtime: DiffusionRuntime = {
  provider: onnx.provider,
  run: async (model, graph, feeds) => {
    const started = performance.now();
    const out = await onnx.run(model, graph, feeds);
    const batch = (feeds.x ?? feeds.image ?? feeds.latent ?? feeds.ref_latent)!.dims[0];
    const key = `${model}/${graph} ×${batch}`;
    calls[key] ??= { count: 0, seconds: 0 };
    calls[key].count++;
    calls[key].seconds += (performance.now() - started) / 1000;
    return out;
  },
  load: async (model, graphs) => {
    const started = performance.now();
    await onnx.load!(model, graphs);
    loadSeconds += (performance.now() - started) / 1000;
  },
  release: (model) => onnx.release(model),
};

const size = bundle.manifest.config.imageSize;
const crop = createImage(512, 512);
for (let p = 0; p < 512 * 512; p++) crop.data.set([(p * 7) % 256, 128, (p >> 9) % 256, 255], p * 4);
const models = await loadDiffusionModels(bundle);
let estimate = '';
const views = await generateViews(models, runtime, { crop }, { steps, seed: 1, onNote: (line) => (estimate = line) });
const peakRssGiB = process.resourceUsage().maxRSS / 2 ** 20;
if (scratch) await rm(scratch, { recursive: true, force: true });

const perFrameSeconds = (steps * views.stepSeconds.orbit + views.seconds.decode) / 32;
const at50 = 50 * (views.stepSeconds.back + views.stepSeconds.orbit) + views.seconds.decode;
const result = {
  bench: 'generate',
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, model: cpus()[0]?.model, memoryGiB: totalmem() / 2 ** 30, node: process.version },
  bundle: { dir: resolve(bundleDir), config: bundle.manifest.config.name, precision: bundle.manifest.precision, source: bundle.manifest.source.kind, imageSize: size },
  provider: runtime.provider,
  threads,
  steps,
  seconds: { ...views.seconds, loadGraphs: loadSeconds },
  stepSeconds: views.stepSeconds,
  perFrameSeconds,
  estimatedSecondsAt50Steps: at50,
  upFrontEstimate: estimate,
  peakRssGiB,
  graphCalls: Object.fromEntries(Object.entries(calls).map(([k, v]) => [k, { count: v.count, meanSeconds: v.seconds / v.count }])),
  note: 'peak RSS is host memory (GPU memory is not measured here); per-frame time = (steps × orbit step + decode) / 32, graph loading excluded',
};
await writeFileAtomic(resolve(import.meta.dirname, 'results/generate.json'), `${JSON.stringify(result, null, 2)}\n`);
console.log(
  `generate (${bundle.manifest.config.name} bundle, ${size}², ${runtime.provider}, ${threads} threads, ${steps} steps): ` +
    `back ${views.stepSeconds.back.toFixed(3)} s/step, orbit ${views.stepSeconds.orbit.toFixed(3)} s/step (4 windows × 8 frames), ` +
    `${views.seconds.total.toFixed(1)} s total (graph loading ${loadSeconds.toFixed(1)} s), ${perFrameSeconds.toFixed(2)} s/frame, ` +
    `≈${(at50 / 60).toFixed(1)} min at 50 steps, peak RSS ${peakRssGiB.toFixed(2)} GiB`,
);
