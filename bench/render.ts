/**
 * Ground-truth renderer speed: 32 orbit views of the Lee Perry-Smith scan at 512², written as a
 * view set, plus rasterize-only timings per supersampling factor (measured in the same run).
 *
 *   npx tsx bench/render.ts            → bench/results/render.json + one summary line
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { cpus } from 'node:os';
import { panoheadOrbit } from '../src/core/camera.js';
import { writeFileAtomic } from '../src/core/atomic.js';
import { loadTexturedMesh } from '../src/eval/load-mesh.js';
import { transformMesh, triangleCount } from '../src/eval/mesh.js';
import { normalizeHead } from '../src/eval/normalize-head.js';
import { rasterize } from '../src/eval/rasterizer.js';
import { renderViews } from '../src/eval/render-views.js';

const data = resolve(import.meta.dirname, '../../shared/data/leeperrysmith');
const size = 512;

const loadStart = performance.now();
const raw = await loadTexturedMesh(join(data, 'LeePerrySmith.glb'), { texture: join(data, 'Map-COL.jpg'), flipV: true });
const mesh = transformMesh(raw, normalizeHead(raw).matrix);
const loadSeconds = (performance.now() - loadStart) / 1000;

const cameras = panoheadOrbit({ size });
const perView: Record<string, number> = {};
for (const supersample of [1, 2, 3]) {
  rasterize(mesh, cameras[1], { supersample }); // warm-up
  const start = performance.now();
  for (const k of [0, 4, 8, 12, 16, 20, 24, 28]) rasterize(mesh, cameras[k], { supersample });
  perView[`ss${supersample}`] = (performance.now() - start) / 8 / 1000;
}

const out = await mkdtemp(join(tmpdir(), 'h3d-bench-render-'));
const start = performance.now();
await renderViews(mesh, out, { size, supersample: 3 });
const viewSetSeconds = (performance.now() - start) / 1000;
await rm(out, { recursive: true, force: true });

const result = {
  bench: 'render',
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
  mesh: { triangles: triangleCount(mesh), loadSeconds },
  size,
  views: cameras.length,
  viewSetSeconds,
  rasterizeSecondsPerView: perView,
  supersampleCost: { ss3OverSs1: perView.ss3 / perView.ss1 },
};
await writeFileAtomic(resolve(import.meta.dirname, 'results/render.json'), `${JSON.stringify(result, null, 2)}\n`);
console.log(
  `render: 32 views at ${size}² (ss3) in ${viewSetSeconds.toFixed(2)} s incl. PNG writes; ` +
    `rasterize ${(perView.ss3 * 1000).toFixed(0)} ms/view at ss3, ${(perView.ss1 * 1000).toFixed(0)} ms at ss1 (×${result.supersampleCost.ss3OverSs1.toFixed(2)})`,
);
