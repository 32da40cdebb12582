import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { panoheadOrbit } from '../../../src/core/camera.js';
import { createImage, writePng } from '../../../src/core/image.js';
import { readTransformsJson } from '../../../src/core/transforms-json.js';
import { loadBundle } from '../../../src/generate/diffportrait360/bundle.js';
import { generateViews, loadDiffusionModels } from '../../../src/generate/diffportrait360/generate-views.js';
import { buildGraph } from '../../../src/generate/diffportrait360/networks/graphs.js';
import { writeRandomBundle } from '../../../src/generate/diffportrait360/random-bundle.js';
import { createOnnxRuntime } from '../../../src/generate/diffportrait360/runtime/onnx-runtime.js';
import type { DiffusionRuntime } from '../../../src/generate/diffportrait360/runtime/tensor.js';
import { writeGeneratedViews } from '../../../src/generate/diffportrait360/write-views.js';
import { isOneLineUserError, runCli } from '../../helpers/cli.js';

const root = mkdtempSync(join(tmpdir(), 'head3d-dp360-e2e-'));
const bundleDir = join(root, 'bundle');
afterAll(() => rmSync(root, { recursive: true, force: true }));

beforeAll(async () => {
  await writeRandomBundle(bundleDir, { size: 'tiny', seed: 3, unetGraphs: buildGraph });
}, 300_000);

function portrait(size: number) {
  const image = createImage(size, size);
  for (let p = 0; p < size * size; p++) image.data.set([(p * 13) % 256, 90, (p >> 7) % 256, 255], p * 4);
  return image;
}

/** Counts the graph calls of a runtime. */
function counting(runtime: DiffusionRuntime): { runtime: DiffusionRuntime; calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    runtime: {
      provider: runtime.provider,
      run: (model, graph, feeds) => {
        calls.push(`${model}/${graph}`);
        return runtime.run(model, graph, feeds);
      },
      load: runtime.load?.bind(runtime),
      release: runtime.release.bind(runtime),
    },
  };
}

describe('DiffPortrait360 on a tiny random bundle (onnxruntime-node, CPU)', () => {
  it('generates 32 frames in orbit order with PanoHead cameras, banks once per step', async () => {
    const bundle = await loadBundle(bundleDir);
    const onnx = await createOnnxRuntime(bundle, { provider: 'cpu', threads: 1 });
    const { runtime, calls } = counting(onnx);
    const steps = 2;
    const views = await generateViews(await loadDiffusionModels(bundle), runtime, { crop: portrait(512) }, { steps, seed: 11 });
    await onnx.release();
    expect(views.frames).toHaveLength(32);
    expect(views.back.width).toBe(64);
    for (const frame of views.frames) expect(frame.width).toBe(64);
    // Random weights give noise, but frames of different cameras must differ.
    expect(new Set(views.frames.map((f) => Buffer.from(f.data).toString('base64'))).size).toBe(32);

    const count = (name: string) => calls.filter((c) => c === name).length;
    expect(count('back/appearance')).toBe(steps);
    expect(count('orbit/appearance')).toBe(2 * steps); // front + back, once per step, not per window
    expect(count('orbit/controlnet')).toBe(4 * steps);
    expect(count('orbit/unet_cond')).toBe(4 * steps);
    expect(count('orbit/unet_uncond')).toBe(4 * steps);
    expect(count('orbit/vae_encoder')).toBe(2);

    const out = join(root, 'views');
    await writeGeneratedViews(views.frames, views.back, out);
    const viewSet = await readTransformsJson(join(out, 'transforms.json'));
    const orbit = panoheadOrbit({ size: 64 });
    expect(viewSet.frames.map((f) => f.filePath)).toEqual(Array.from({ length: 32 }, (_, k) => `frame_${String(k).padStart(3, '0')}.png`));
    viewSet.frames.forEach((f, k) => f.camera.cam2world.forEach((v, i) => expect(v).toBeCloseTo(orbit[k].cam2world[i], 9)));
  }, 300_000);

  it('runs through the CLI: head3d generate, then models verify refuses a damaged copy', async () => {
    const crop = join(root, 'crop.png');
    await writePng(crop, portrait(512));
    const out = join(root, 'cli-views');
    const result = await runCli(['--json', 'generate', crop, '--models', bundleDir, '-o', out, '--steps', '2', '--threads', '1', '--seed', '3'], { timeoutMs: 240_000 });
    expect(result.code, result.stderr).toBe(0);
    const json = JSON.parse(result.stdout) as { views: number; steps: number; provider: string; transformsPath: string };
    expect(json.views).toBe(32);
    expect(json.steps).toBe(2);
    expect((await readTransformsJson(json.transformsPath)).frames).toHaveLength(32);

    expect((await runCli(['models', 'verify', bundleDir])).code).toBe(0);
    const damaged = join(root, 'damaged');
    cpSync(bundleDir, damaged, { recursive: true });
    appendFileSync(join(damaged, 'graphs', 'orbit_unet_cond.onnx'), 'x');
    const refused = await runCli(['models', 'verify', damaged]);
    expect(isOneLineUserError(refused), refused.stderr).toBe(true);
    expect(refused.stderr).toMatch(/orbit_unet_cond.onnx is \d+ bytes/);
    const swapped = join(root, 'swapped');
    cpSync(bundleDir, swapped, { recursive: true });
    const graphFile = join(swapped, 'graphs', 'orbit_unet_cond.onnx');
    const bytes = readFileSync(graphFile);
    bytes[bytes.length >> 1] ^= 0xff; // same size, one byte flipped
    writeFileSync(graphFile, bytes);
    const wrong = await runCli(['--quiet', 'models', 'verify', swapped]);
    expect(isOneLineUserError(wrong), wrong.stderr).toBe(true);
    expect(wrong.stderr).toMatch(/orbit_unet_cond.onnx is damaged/);
  }, 300_000);
});
