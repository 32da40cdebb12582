/**
 * Frame time of `<head3d-viewer>` in headless Chromium for a Lee Perry-Smith export.
 *
 * The glb comes from, in order:
 * - HEAD3D_BENCH_GLB=<file.glb> (and optionally HEAD3D_BENCH_SPLATS=<file.glb>): used as is;
 * - HEAD3D_BENCH_FIELD=<field.h3df>, a fit of the Lee Perry-Smith view set (bench/export.ts makes
 *   one): exported here with the export library's defaults (meshopt, PNG, MSFT_lod) plus splats;
 * - otherwise ../shared/data/leeperrysmith/LeePerrySmith.glb itself with Map-COL.jpg attached as its
 *   base colour through glTF-Transform (V flipped to glTF's convention, meshopt-compressed).
 * `source` in the result says which.
 *
 * Each model is shown lit in an 800×800 viewer (devicePixelRatio 1) with auto-rotate on, so every
 * animation frame draws; frame times are the intervals between drawn frames over 5 s after a 1 s
 * warm-up. Headless Chromium paces rAF at 60 Hz at most, so 16.7 ms is the floor. Chromium runs with
 * --disable-gpu (WebGL 2 on SwiftShader, i.e. the CPU), as in CI.
 *
 *   npx tsx bench/viewer.ts            → bench/results/viewer.json + one summary line
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../src/core/atomic.js';
import { gltfIO } from '../src/core/gltf-io.js';
import { exportMeshGlb } from '../src/export/export-mesh-glb.js';
import { exportSplatsGlb } from '../src/export/export-splats.js';
import { compressDocument } from '../src/export/gltf/compress.js';
import { calibrateIso } from '../src/export/mesh/calibrate-iso.js';
import { parallelFieldSampler } from '../src/export/parallel/parallel-sampler.js';
import { readCheckpoint } from '../src/nerf/train/checkpoint.js';
import { launchHeadlessChromium } from '../src/viewer/headless/chromium.js';
import { waitForLoad } from '../src/viewer/headless/turntable.js';
import { startViewerServer } from '../src/viewer/server/server.js';

const DATA = resolve(import.meta.dirname, '../../shared/data/leeperrysmith');
const VIEWPORT = 800;
const WARMUP_MS = 1000;
const MEASURE_MS = 5000;
const log = (message: string) => process.stderr.write(`${message}\n`);

interface Source {
  source: string;
  mesh: string;
  splats?: string;
}

async function prepare(work: string): Promise<Source> {
  if (process.env.HEAD3D_BENCH_GLB) return { source: `glb ${process.env.HEAD3D_BENCH_GLB}`, mesh: resolve(process.env.HEAD3D_BENCH_GLB), splats: process.env.HEAD3D_BENCH_SPLATS };
  if (process.env.HEAD3D_BENCH_FIELD) {
    const { state } = await readCheckpoint(resolve(process.env.HEAD3D_BENCH_FIELD));
    const field = await parallelFieldSampler(state, { threads: availableParallelism() });
    try {
      const iso = calibrateIso(field).iso;
      const mesh = join(work, 'head.glb'), splats = join(work, 'head.splats.glb');
      log('bench viewer: exporting the mesh (export defaults)');
      await exportMeshGlb(field, mesh, { iso, pivot: 'center' });
      log('bench viewer: exporting the splats');
      await exportSplatsGlb(field, splats, { iso, pivot: 'center' });
      return { source: `export library from field ${process.env.HEAD3D_BENCH_FIELD}`, mesh, splats };
    } finally {
      await field.close();
    }
  }
  // The scan itself, textured, through glTF-Transform.
  const io = await gltfIO();
  const document = await io.read(join(DATA, 'LeePerrySmith.glb'));
  const texture = document.createTexture('Map-COL').setImage(new Uint8Array(await readFile(join(DATA, 'Map-COL.jpg')))).setMimeType('image/jpeg');
  for (const material of document.getRoot().listMaterials()) material.setBaseColorTexture(texture).setMetallicFactor(0).setRoughnessFactor(0.8);
  for (const mesh of document.getRoot().listMeshes()) {
    for (const primitive of mesh.listPrimitives()) {
      const uv = primitive.getAttribute('TEXCOORD_0');
      if (!uv) continue;
      const array = uv.getArray()!.slice();
      for (let i = 1; i < array.length; i += 2) array[i] = 1 - array[i]; // SOURCE.txt: UVs follow flipY=true
      uv.setArray(array);
    }
  }
  await compressDocument(document, 'meshopt');
  const mesh = join(work, 'LeePerrySmith-textured.glb');
  await writeFileAtomic(mesh, await io.writeBinary(document));
  return { source: 'LeePerrySmith.glb + Map-COL.jpg through glTF-Transform (meshopt); no field given', mesh };
}

interface FrameStats {
  frames: number;
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
  fps: number;
  cpuRenderMs: number;
  triangles: number;
}

async function measure(glb: string): Promise<{ stats: FrameStats; load: Record<string, unknown> }> {
  const server = await startViewerServer([glb], { size: { width: VIEWPORT, height: VIEWPORT }, captions: false, attributes: [{ 'auto-rotate': '', 'auto-rotate-speed': '30' }] });
  const browser = await launchHeadlessChromium();
  try {
    const page = await browser.newPage({ viewport: { width: VIEWPORT, height: VIEWPORT }, deviceScaleFactor: 1 });
    await page.goto(server.url);
    await waitForLoad(page, 120_000);
    const load = (await page.evaluate('window.head3dEvents[0].detail')) as Record<string, unknown>;
    // A string, not a function: tsx's esbuild would wrap named closures in a __name helper the page lacks.
    const stats = (await page.evaluate(`new Promise((resolveStats) => {
      const viewer = document.querySelector('head3d-viewer');
      const warmup = ${WARMUP_MS}, duration = ${MEASURE_MS};
      const intervals = [], cpu = [];
      let lastFrames = viewer.stats.frames, lastTime = 0, start = 0;
      function step(time) {
        if (!start) start = time;
        const frames = viewer.stats.frames;
        if (time - start > warmup && frames !== lastFrames) {
          if (lastTime) intervals.push((time - lastTime) / (frames - lastFrames));
          cpu.push(viewer.stats.lastRenderMs);
        }
        if (frames !== lastFrames) lastTime = time;
        lastFrames = frames;
        if (time - start < warmup + duration) { requestAnimationFrame(step); return; }
        const sorted = intervals.slice().sort((a, b) => a - b);
        const mean = intervals.reduce((a, b) => a + b, 0) / intervals.length;
        resolveStats({
          frames: intervals.length, meanMs: mean, p50Ms: sorted[Math.floor(sorted.length / 2)], p95Ms: sorted[Math.floor(sorted.length * 0.95)],
          fps: 1000 / mean, cpuRenderMs: cpu.reduce((a, b) => a + b, 0) / cpu.length, triangles: viewer.stats.triangles,
        });
      }
      requestAnimationFrame(step);
    })`)) as FrameStats;
    const renderer = (await page.evaluate(`(() => {
      const gl = document.createElement('canvas').getContext('webgl2');
      const info = gl && gl.getExtension('WEBGL_debug_renderer_info');
      return gl && info ? String(gl.getParameter(info.UNMASKED_RENDERER_WEBGL)) : 'unknown';
    })()`)) as string;
    return { stats, load: { ...load, gpu: renderer } };
  } finally {
    await browser.close();
    await server.close();
  }
}

const work = await mkdtemp(join(tmpdir(), 'head3d-bench-viewer-'));
try {
  const source = await prepare(work);
  log(`bench viewer: ${source.source}`);
  const mesh = await measure(source.mesh);
  const splats = source.splats ? await measure(source.splats) : undefined;
  const result = {
    bench: 'viewer',
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model },
    source: source.source,
    viewport: `${VIEWPORT}×${VIEWPORT} @1x`,
    chromium: 'headless, --disable-gpu (WebGL 2 on SwiftShader); WebGPURenderer WebGL 2 backend',
    method: `auto-rotate, intervals between drawn frames over ${MEASURE_MS / 1000} s after ${WARMUP_MS / 1000} s warm-up (rAF ≤ 60 Hz)`,
    mesh: { ...mesh.stats, load: mesh.load },
    splats: splats ? { ...splats.stats, load: splats.load } : null,
  };
  await writeFileAtomic(resolve(import.meta.dirname, 'results/viewer.json'), `${JSON.stringify(result, null, 2)}\n`);
  const line = (name: string, s: FrameStats) => `${name} ${s.p50Ms.toFixed(1)} ms p50 / ${s.p95Ms.toFixed(1)} ms p95 (${s.fps.toFixed(1)} fps, ${Math.round(s.triangles)} tris drawn)`;
  console.log(`viewer: ${line('mesh', mesh.stats)}${splats ? `; ${line('splats', splats.stats)}` : ''} at ${VIEWPORT}² in headless Chromium/SwiftShader — ${source.source}`);
} finally {
  await rm(work, { recursive: true, force: true });
}
