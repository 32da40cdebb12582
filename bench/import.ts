/**
 * Import benchmark: the Lee Perry-Smith scan rendered on PanoHead's 32-view equatorial orbit (as
 * `head3d render-views LeePerrySmith.glb --texture Map-COL.jpg --flip-v --holdout 8` does), brought
 * in by the import generator from four forms of the same views, and fitted for the SAME fixed
 * number of steps from each (so machine load cannot favour one form), each scored on the same 8
 * held-out views above and below the orbit (−15°..+25°, golden-angle yaws: mostly extrapolation for
 * 32 equatorial views) and on 8 views on the orbit half-way between its frames (what the orbit
 * constrains):
 *
 * - `transforms`: the rendered transforms.json (what the fit benchmark fits);
 * - `frames`: a folder of the 32 RGBA frames (cameras assumed to be PanoHead's orbit);
 * - `frames-rgb`: the frames flattened on white without alpha (the matte is keyed from the background);
 * - `video`: those frames as an H.264 mp4 (yuv420p, CRF 23, 10 fps, as the reference writes it), decoded with ffmpeg.
 *
 * The import path passes when every form lands within 1 dB of `transforms` on both held-out sets.
 *
 *   npx tsx bench/import.ts      → bench/results/import.json + one summary line
 *   HEAD3D_BENCH_STEPS=300 HEAD3D_BENCH_RAYS=4096 HEAD3D_BENCH_LR=0.01,0.001 HEAD3D_BENCH_FORMS=transforms,frames,video npx tsx bench/import.ts
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { writeFileAtomic } from '../src/core/atomic.js';
import { readTransformsJson } from '../src/core/transforms-json.js';
import { loadTexturedMesh } from '../src/eval/load-mesh.js';
import { transformMesh } from '../src/eval/mesh.js';
import { normalizeHead } from '../src/eval/normalize-head.js';
import { renderViews } from '../src/eval/render-views.js';
import { importViews } from '../src/generate/import/import-views.js';
import { renderHoldoutViews } from '../src/generate/proxy/holdout-views.js';
import { createBackend } from '../src/nerf/backends/create-backend.js';
import { evaluateField } from '../src/nerf/train/evaluate.js';
import { fitField } from '../src/nerf/train/fit.js';
import { loadViewData } from '../src/nerf/train/view-data.js';

const size = Number(process.env.HEAD3D_BENCH_SIZE ?? 128);
const steps = Number(process.env.HEAD3D_BENCH_STEPS ?? 200);
const rays = Number(process.env.HEAD3D_BENCH_RAYS ?? 2048);
// The draft preset's schedule (src/build/presets.ts): short fits need the faster start.
const [learningRate, finalLearningRate] = (process.env.HEAD3D_BENCH_LR ?? '0.03,0.003').split(',').map(Number);
const threads = Number(process.env.HEAD3D_BENCH_THREADS ?? cpus().length);
const forms = (process.env.HEAD3D_BENCH_FORMS ?? 'transforms,frames,frames-rgb,video').split(',');
const data = resolve(import.meta.dirname, '../../shared/data/leeperrysmith');
const root = join(tmpdir(), `head3d-bench-import-${size}`);
const rendered = join(root, 'rendered');

const orbitHoldout = join(root, 'orbit-holdout', 'holdout', 'transforms.json');
if (!existsSync(orbitHoldout)) {
  const raw = await loadTexturedMesh(join(data, 'LeePerrySmith.glb'), { texture: join(data, 'Map-COL.jpg'), flipV: true });
  const mesh = transformMesh(raw, normalizeHead(raw).matrix);
  await renderViews(mesh, rendered, { size, holdout: 8 });
  await renderHoldoutViews(mesh, join(root, 'orbit-holdout'), { count: 8, size });
}

const frameNames = readdirSync(rendered).filter((n) => /^frame_\d+\.png$/.test(n)).sort();
const sources: Record<string, string> = { transforms: join(rendered, 'transforms.json'), frames: join(root, 'frames'), 'frames-rgb': join(root, 'frames-rgb'), video: join(root, 'orbit.mp4') };
mkdirSync(sources.frames, { recursive: true });
mkdirSync(sources['frames-rgb'], { recursive: true });
for (const name of frameNames) {
  copyFileSync(join(rendered, name), join(sources.frames, name));
  await sharp(join(rendered, name)).flatten({ background: '#ffffff' }).removeAlpha().png().toFile(join(sources['frames-rgb'], name));
}
if (forms.includes('video')) {
  const encoded = spawnSync('ffmpeg', ['-nostdin', '-v', 'error', '-y', '-framerate', '10', '-i', join(sources['frames-rgb'], 'frame_%03d.png'), '-c:v', 'libx264', '-crf', '23', '-pix_fmt', 'yuv420p', sources.video]);
  if (encoded.status !== 0) throw new Error(`ffmpeg could not encode the orbit video: ${encoded.stderr?.toString() ?? encoded.error}`);
}

const offOrbit = await readTransformsJson(join(rendered, 'holdout', 'transforms.json'));
const onOrbit = await readTransformsJson(orbitHoldout);
interface ImportRun {
  form: string; source: string; kind: string; mattedFrames: number; opaqueFrames: number;
  steps: number; fitSeconds: number; seconds: number; trainPsnr: number;
  holdoutPsnr: number; holdoutMaskedPsnr: number; holdoutSsim: number;
  orbitHoldoutPsnr: number; orbitHoldoutMaskedPsnr: number; orbitHoldoutSsim: number;
}
const runs: ImportRun[] = [];
for (const form of forms) {
  const started = performance.now();
  const dir = join(root, `${form}.views`);
  const imported = await importViews(sources[form], dir);
  const views = await loadViewData(await readTransformsJson(imported.transformsPath));
  const backend = await createBackend('cpu', threads);
  try {
    const fitStarted = performance.now();
    const fit = await fitField(views, backend, { steps, raysPerStep: rays, learningRate, finalLearningRate, seed: 42 });
    const fitSeconds = (performance.now() - fitStarted) / 1000;
    const off = await evaluateField(backend, offOrbit);
    const on = await evaluateField(backend, onOrbit);
    runs.push({
      form, source: sources[form], kind: imported.kind, mattedFrames: imported.matted, opaqueFrames: imported.opaque,
      steps: fit.state.step, fitSeconds, seconds: (performance.now() - started) / 1000, trainPsnr: fit.finalTrainPsnr,
      holdoutPsnr: off.psnr, holdoutMaskedPsnr: off.maskedPsnr, holdoutSsim: off.ssim,
      orbitHoldoutPsnr: on.psnr, orbitHoldoutMaskedPsnr: on.maskedPsnr, orbitHoldoutSsim: on.ssim,
    });
    console.error(`import bench ${form}: off-orbit held-out ${off.psnr.toFixed(2)} dB (masked ${off.maskedPsnr.toFixed(2)}), on-orbit held-out ${on.psnr.toFixed(2)} dB, train ${fit.finalTrainPsnr.toFixed(2)} dB, ${fit.state.step} steps in ${fitSeconds.toFixed(0)} s`);
  } finally {
    await backend.close();
  }
}

const result = {
  bench: 'import',
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
  size, steps, rays, learningRate, finalLearningRate, threads, views: frameNames.length, holdoutViews: 8,
  runs,
};
await writeFileAtomic(resolve(import.meta.dirname, 'results/import.json'), `${JSON.stringify(result, null, 2)}\n`);
const base = runs.find((r) => r.form === 'transforms');
const gap = (r: ImportRun) => (base ? `${(r.holdoutPsnr - base.holdoutPsnr).toFixed(2)}/${(r.orbitHoldoutPsnr - base.orbitHoldoutPsnr).toFixed(2)} dB` : '');
console.log(
  `import (${size}², ${steps} steps × ${rays} rays): ` +
    runs.map((r) => `${r.form} ${r.holdoutPsnr.toFixed(2)} dB off-orbit / ${r.orbitHoldoutPsnr.toFixed(2)} dB on-orbit`).join('; ') +
    (base ? `; vs transforms (off/on): ${runs.filter((r) => r !== base).map((r) => `${r.form} ${gap(r)}`).join(', ')}` : ''),
);
