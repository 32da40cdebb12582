/**
 * The converter round trip on committed PyTorch checkpoints (issue 5): the micro back and orbit
 * checkpoints of test/fixtures/dp360/micro (torch.save zip files of the official classes at
 * MICRO_CONFIG, fp16 storage, a random HF-layout CLIP; scripts/reference/make_micro_checkpoint.py)
 * are converted as `head3d models convert --config micro` does, and the bundle's graphs reproduce
 * the official code's outputs stored beside them; a checkpoint with a missing and a mis-shaped key
 * is refused.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { Head3dError } from '../../../src/core/errors.js';
import { loadBundle, readBundleContext } from '../../../src/generate/diffportrait360/bundle.js';
import { leftoverTemporaries } from '../../../src/generate/diffportrait360/bundle-writer.js';
import { type TorchCheckpoint, openCheckpoint } from '../../../src/generate/diffportrait360/checkpoint/index.js';
import { MICRO_CONFIG } from '../../../src/generate/diffportrait360/config.js';
import { convertBundle } from '../../../src/generate/diffportrait360/convert-bundle.js';
import { buildGraph, expectedStateDictKeys } from '../../../src/generate/diffportrait360/networks/graphs.js';
import type { GraphName, ModelKind } from '../../../src/generate/diffportrait360/signatures.js';
import { REPO_ROOT, isOneLineUserError, runCli } from '../../helpers/cli.js';

const FIXTURES = join(REPO_ROOT, 'test/fixtures/dp360/micro');

interface Manifest {
  broken: { checkpoint: string; missing: string[]; wrongShape: Record<string, number[]> };
  models: Record<
    ModelKind,
    {
      checkpoint: string;
      cases: { graph: GraphName; inputs: Record<string, string | number[]>; outputs: Record<string, string> }[];
      tensors: Record<string, { file: string; shape: number[]; maxAbs: number }>;
    }
  >;
}

const manifest = JSON.parse(readFileSync(join(FIXTURES, 'manifest.json'), 'utf8')) as Manifest;

function fixtureTensor(model: ModelKind, name: string): { data: Float32Array; shape: number[]; maxAbs: number } {
  const info = manifest.models[model].tensors[name]!;
  const bytes = readFileSync(join(FIXTURES, info.file));
  return { data: new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)), shape: info.shape, maxAbs: info.maxAbs };
}

async function writeHintFolder(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (let i = 0; i < 32; i++) {
    const data = Buffer.alloc(64 * 64 * 3, i * 7);
    await sharp(data, { raw: { width: 64, height: 64, channels: 3 } }).png().toFile(join(dir, `${String(i).padStart(7, '0')}.png`));
  }
}

async function convert(out: string, hints: string, backPath: string, orbitPath: string): Promise<void> {
  const opened: TorchCheckpoint[] = [];
  try {
    const back = await openCheckpoint(backPath);
    opened.push(back);
    const orbit = await openCheckpoint(orbitPath);
    opened.push(orbit);
    // What `head3d models convert --config micro` runs (src/cli/models.ts).
    await convertBundle(out, { config: MICRO_CONFIG, checkpoints: { back, orbit }, hintsDir: hints, unetGraphs: buildGraph, unetKeys: expectedStateDictKeys });
  } finally {
    await Promise.all(opened.map((c) => c.close()));
  }
}

describe('converter round trip on the committed micro torch checkpoints', () => {
  let dir: string;
  let hints: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'head3d-roundtrip-'));
    hints = join(dir, 'hints');
    await writeHintFolder(hints);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('converts both checkpoints and the graphs match the official code within 1e-4 of each output’s max |x|', async () => {
    const out = join(dir, 'bundle');
    await convert(out, hints, join(FIXTURES, manifest.models.back.checkpoint), join(FIXTURES, manifest.models.orbit.checkpoint));
    const bundle = await loadBundle(out, { verify: 'all' });
    expect(bundle.manifest.config.name).toBe('micro');
    expect(bundle.manifest.source.kind).toBe('converted');
    for (const model of ['back', 'orbit'] as const) {
      const context = await readBundleContext(bundle, model);
      expect(context.length).toBe(77 * 32);
      expect(context.every(Number.isFinite)).toBe(true);
    }

    const errors: Record<string, number> = {};
    for (const model of ['back', 'orbit'] as const) {
      for (const c of manifest.models[model].cases) {
        const session = await ort.InferenceSession.create(bundle.graphPath(model, c.graph));
        const feeds: Record<string, ort.Tensor> = {};
        for (const [name, value] of Object.entries(c.inputs)) {
          if (Array.isArray(value)) feeds[name] = new ort.Tensor('int64', BigInt64Array.from(value, (v) => BigInt(v)), [value.length]);
          else {
            const t = fixtureTensor(model, value);
            feeds[name] = new ort.Tensor('float32', t.data, t.shape);
          }
        }
        const outputs = await session.run(feeds);
        let worst = 0;
        for (const [name, ref] of Object.entries(c.outputs)) {
          const expected = fixtureTensor(model, ref);
          const actual = outputs[name]!;
          expect(actual.dims, `${model}/${c.graph} ${name}`).toEqual(expected.shape);
          const data = actual.data as Float32Array;
          let maxError = 0;
          for (let i = 0; i < expected.data.length; i++) maxError = Math.max(maxError, Math.abs(data[i]! - expected.data[i]!));
          expect(expected.maxAbs, `${model}/${c.graph} ${name}`).toBeGreaterThan(1e-3);
          worst = Math.max(worst, maxError / expected.maxAbs);
        }
        errors[`${model}/${c.graph}`] = worst;
        await session.release();
      }
    }
    console.log(`micro round trip, max |onnx − torch| / max |torch| per graph: ${JSON.stringify(errors)}`);
    expect(Object.keys(errors).sort()).toEqual(['back/appearance', 'back/controlnet', 'back/unet_cond', 'back/unet_uncond', 'back/vae_decoder', 'orbit/appearance', 'orbit/unet_uncond']);
    for (const [graph, error] of Object.entries(errors)) expect(error, graph).toBeLessThan(1e-4);
  }, 300_000);

  it('refuses a torch checkpoint with a missing and a mis-shaped key, naming both, and writes nothing', async () => {
    const out = join(dir, 'refused');
    const { broken } = manifest;
    const error = await convert(out, hints, join(FIXTURES, broken.checkpoint), join(FIXTURES, manifest.models.orbit.checkpoint)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Head3dError);
    const message = (error as Error).message;
    expect(message).not.toContain('\n');
    const [reshaped, shape] = Object.entries(broken.wrongShape)[0]!;
    expect(message).toMatch(/^checkpoint .*micro-back-broken\.pt does not fit the back model: 1 missing \(/);
    expect(message).toContain(broken.missing[0]);
    expect(message).toContain(`1 with the wrong shape (${reshaped}: [${shape.join(',')}], expected [3])`);
    expect(message).not.toMatch(/unexpected/);
    expect(await leftoverTemporaries(out)).toEqual([]);
  });

  it('head3d models convert --config micro (CLI) refuses it too, in one line', async () => {
    const out = join(dir, 'cli-refused');
    const result = await runCli(['--quiet', 'models', 'convert', '--config', 'micro', '--back', join(FIXTURES, manifest.broken.checkpoint), '--orbit', join(FIXTURES, manifest.models.orbit.checkpoint), '--hints', hints, '-o', out]);
    expect(isOneLineUserError(result), result.stderr).toBe(true);
    expect(result.stderr).toMatch(/^head3d: checkpoint .*micro-back-broken\.pt does not fit the back model: 1 missing \(model\.diffusion_model\.out\.2\.weight\); 1 with the wrong shape/);
    expect(existsSync(out)).toBe(false);
  }, 120_000);
});
