/**
 * Build benchmark: every portrait in ../shared/data/portraits through `head3d build` (proxy
 * generator, mesh output) in one process, so the face models load once. For each: a valid glb
 * (checked with glTF-Validator) or the specific error of the stage that refused it, per-stage
 * seconds, the fit's PSNRs, triangle counts and file size. Results are rewritten after every
 * portrait, so a run cut short keeps what finished.
 *
 *   npx tsx bench/build.ts                          → bench/results/build.json + one summary line
 *   HEAD3D_BENCH_QUALITY=test npx tsx bench/build.ts     (seconds per portrait instead of minutes)
 *   HEAD3D_BENCH_PORTRAITS=astronaut.png,obama_official.jpg npx tsx bench/build.ts
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import type { StageName } from '../src/build/build-context.js';
import { buildHead } from '../src/build/build-head.js';
import type { Quality } from '../src/build/presets.js';
import { writeFileAtomic } from '../src/core/atomic.js';
import { isHead3dError } from '../src/core/errors.js';
import { validateGlb } from '../src/export/gltf/validate.js';

const quality = (process.env.HEAD3D_BENCH_QUALITY ?? 'draft') as Quality;
const folder = resolve(import.meta.dirname, '../../shared/data/portraits');
const only = process.env.HEAD3D_BENCH_PORTRAITS?.split(',');
const portraits = readdirSync(folder)
  .filter((name) => ['.png', '.jpg', '.jpeg', '.webp'].includes(extname(name).toLowerCase()))
  .filter((name) => !only || only.includes(name))
  .sort();
const out = join(tmpdir(), `head3d-bench-build-${quality}`);
const resultPath = resolve(import.meta.dirname, 'results/build.json');

interface PortraitRun {
  portrait: string;
  ok: boolean;
  seconds: number;
  /** The stage that failed and its one-line message and hint, for refused portraits. */
  error?: { stage: StageName | null; message: string; hint?: string };
  stages?: Record<string, { seconds: number; facts: Record<string, unknown> }>;
  glb?: { path: string; bytes: number; validationErrors: number; validationWarnings: number };
}

const runs: PortraitRun[] = [];
const started = new Date().toISOString();
for (const portrait of portraits) {
  const t0 = performance.now();
  let stage: StageName | null = null;
  try {
    const output = join(out, portrait.replace(/\.[^.]+$/, '.glb'));
    const summary = await buildHead({ portrait: join(folder, portrait), output, quality, generator: 'proxy', force: true, onProgress: (e) => (stage = e.stage) });
    const bytes = new Uint8Array(readFileSync(output));
    const validation = await validateGlb(bytes);
    runs.push({
      portrait, ok: validation.errors === 0, seconds: (performance.now() - t0) / 1000,
      stages: Object.fromEntries(summary.stages.map((s) => [s.stage, { seconds: s.seconds, facts: s.facts }])),
      glb: { path: output, bytes: statSync(output).size, validationErrors: validation.errors, validationWarnings: validation.warnings },
    });
  } catch (error) {
    if (!isHead3dError(error)) throw error; // anything else is a bug and keeps its stack
    runs.push({ portrait, ok: false, seconds: (performance.now() - t0) / 1000, error: { stage, message: error.message, hint: error.hint } });
  }
  const last = runs[runs.length - 1];
  console.error(`build bench ${portrait}: ${last.ok ? `glb ${Math.round(last.glb!.bytes / 1e3)} kB` : `refused at ${last.error?.stage ?? 'start'}: ${last.error?.message ?? 'invalid glb'}`} (${last.seconds.toFixed(0)} s)`);
  await writeFileAtomic(resultPath, `${JSON.stringify({ bench: 'build', started, quality, machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version }, portraits: portraits.length, finished: runs.length, runs }, null, 2)}\n`);
}

const built = runs.filter((r) => r.ok);
const mean = (f: (r: PortraitRun) => number) => built.reduce((s, r) => s + f(r), 0) / Math.max(1, built.length);
const stageMean = (name: string) => mean((r) => r.stages![name]?.seconds ?? 0).toFixed(0);
console.log(
  `build (${quality}): ${built.length}/${runs.length} portraits → valid glb, ${runs.length - built.length} refused` +
    ` (${runs.filter((r) => !r.ok).map((r) => `${r.portrait}: ${r.error?.stage ?? 'export'}`).join(', ') || 'none'});` +
    ` mean ${mean((r) => r.seconds).toFixed(0)} s (preprocess ${stageMean('preprocess')}, generate ${stageMean('generate')}, fit ${stageMean('fit')}, export ${stageMean('export')}),` +
    ` ${Math.round(mean((r) => r.glb!.bytes) / 1e3)} kB, held-out ${mean((r) => Number(r.stages!.fit.facts.holdoutPsnr ?? 0)).toFixed(2)} dB`,
);
