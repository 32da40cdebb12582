/**
 * Import benchmark: the Lee Perry-Smith scan rendered on PanoHead's 32-view equatorial orbit (as
 * `head3d render-views LeePerrySmith.glb --texture Map-COL.jpg --flip-v --holdout 8` does) and fitted
 * by `head3d build --generator import --holdout <set>/holdout/transforms.json` from four forms of
 * the same views, each scored on the same 8 held-out views above and below the orbit (−15°..+25°,
 * golden-angle yaws: mostly extrapolation for 32 equatorial views) and, with `head3d eval`, on 8
 * views on the orbit half-way between its frames (what the orbit constrains):
 *
 * - `transforms`: the rendered transforms.json (what the fit benchmark fits);
 * - `frames`: a folder of the 32 RGBA frames (cameras assumed to be PanoHead's orbit);
 * - `frames-rgb`: the frames flattened on white without alpha (the matte is keyed from the background);
 * - `video`: those frames as an H.264 mp4 (yuv420p, CRF 23, 10 fps, as the reference writes it), decoded with ffmpeg.
 *
 *   npx tsx bench/import.ts      → bench/results/import.json + one summary line
 *   HEAD3D_BENCH_SIZE=128 HEAD3D_BENCH_QUALITY=draft HEAD3D_BENCH_FORMS=frames,video npx tsx bench/import.ts
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { buildHead } from '../src/build/build-head.js';
import type { Quality } from '../src/build/presets.js';
import { writeFileAtomic } from '../src/core/atomic.js';
import { loadTexturedMesh } from '../src/eval/load-mesh.js';
import { transformMesh } from '../src/eval/mesh.js';
import { normalizeHead } from '../src/eval/normalize-head.js';
import { renderViews } from '../src/eval/render-views.js';
import { renderHoldoutViews } from '../src/generate/proxy/holdout-views.js';

const size = Number(process.env.HEAD3D_BENCH_SIZE ?? 128);
const quality = (process.env.HEAD3D_BENCH_QUALITY ?? 'draft') as Quality;
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

/** Mean PSNR of a build's field at the on-orbit held-out views, via `head3d eval`. */
function orbitScore(workDir: string): { psnr: number; maskedPsnr: number; ssim: number } {
  const cli = resolve(import.meta.dirname, '../dist/cli/main.js');
  const run = spawnSync(process.execPath, [cli, '--json', 'eval', join(workDir, 'field.h3df'), '--views', orbitHoldout], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`head3d eval failed (run npm run build first): ${run.stderr}`);
  return JSON.parse(run.stdout) as { psnr: number; maskedPsnr: number; ssim: number };
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

const runs = [];
for (const form of forms) {
  const started = performance.now();
  const summary = await buildHead({
    generator: 'import', views: sources[form], holdout: join(rendered, 'holdout', 'transforms.json'),
    output: join(root, `${form}.glb`), quality, force: true,
    onProgress: ({ stage, message }) => stage === 'fit' && /step \d+0\b/.test(message) && process.stderr.write(`${form}: ${message}\n`),
  });
  const fit = summary.stages.find((s) => s.stage === 'fit')!.facts;
  const generate = summary.stages.find((s) => s.stage === 'generate')!;
  const orbit = orbitScore(summary.workDir);
  runs.push({ form, source: sources[form], seconds: (performance.now() - started) / 1000, generateSeconds: generate.seconds, generate: generate.facts, ...fit, orbitHoldoutPsnr: orbit.psnr, orbitHoldoutMaskedPsnr: orbit.maskedPsnr, orbitHoldoutSsim: orbit.ssim });
  console.error(`import bench ${form}: held-out ${(fit.holdoutPsnr as number).toFixed(2)} dB (masked ${(fit.holdoutMaskedPsnr as number).toFixed(2)}), on-orbit held-out ${orbit.psnr.toFixed(2)} dB, train ${(fit.trainPsnr as number).toFixed(2)} dB, ${fit.steps} steps`);
}

const result = {
  bench: 'import',
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
  size, quality, views: frameNames.length, holdoutViews: 8,
  runs,
};
await writeFileAtomic(resolve(import.meta.dirname, 'results/import.json'), `${JSON.stringify(result, null, 2)}\n`);
const psnr = (form: string) => runs.find((r) => r.form === form)?.holdoutPsnr as number | undefined;
const base = psnr('transforms');
console.log(
  `import (${size}², ${quality}): ` +
    runs.map((r) => `${r.form} ${(r.holdoutPsnr as number).toFixed(2)} dB off-orbit / ${r.orbitHoldoutPsnr.toFixed(2)} dB on-orbit, ${r.steps} steps`).join('; ') +
    (base !== undefined ? `; off-orbit vs transforms: ${runs.filter((r) => r.form !== 'transforms').map((r) => `${r.form} ${((r.holdoutPsnr as number) - base).toFixed(2)} dB`).join(', ')}` : ''),
);
