import { mkdtempSync, rmSync, writeFileSync, mkdirSync, truncateSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isHead3dError } from '../../../src/core/errors.js';
import { MODEL_KINDS, RUNTIME_GRAPHS, describeBundleFile, loadBundle, readBundleContext, signatureDifference, writeManifest } from '../../../src/generate/diffportrait360/bundle.js';
import { BUNDLE_FORMAT, BUNDLE_VERSION, type BundleManifest, DEFAULT_SAMPLER, graphFileName, graphKey } from '../../../src/generate/diffportrait360/bundle-manifest.js';
import { TINY_CONFIG } from '../../../src/generate/diffportrait360/config.js';
import { graphSignature } from '../../../src/generate/diffportrait360/signatures.js';
import { writeFakeBundle } from './bundle-fixture.js';

const root = mkdtempSync(join(tmpdir(), 'head3d-bundle-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const fakeBundle = (name: string) => writeFakeBundle(join(root, name));

async function refusal(dir: string, options?: Parameters<typeof loadBundle>[1]): Promise<string> {
  try {
    await loadBundle(dir, options);
  } catch (error) {
    expect(isHead3dError(error)).toBe(true);
    const message = (error as Error).message;
    expect(message).not.toContain('\n');
    return message;
  }
  throw new Error('the bundle was accepted');
}

/** Rewrites manifest.json directly (writeManifest refuses bad manifests). */
async function patch(dir: string, change: (m: BundleManifest) => void): Promise<void> {
  const m = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as BundleManifest;
  change(m);
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m));
}

describe('model bundle', () => {
  it('loads a complete bundle and hashes its small files', async () => {
    const { dir } = await fakeBundle('good');
    const bundle = await loadBundle(dir);
    expect(bundle.hashed).toHaveLength(2 * 6 + 2 + 32);
    expect(bundle.graphPath('orbit', 'unet_cond')).toBe(join(dir, 'graphs/orbit_unet_cond.onnx'));
    expect(bundle.hintPaths()).toHaveLength(32);
    const context = await readBundleContext(bundle, 'back');
    expect(context.length).toBe(77 * 32);
    expect(context[5]).toBeCloseTo(0.05, 6);
    expect((await loadBundle(dir, { verify: 'none' })).hashed).toHaveLength(0);
  });

  it('refuses missing and wrong parts with one line naming them', async () => {
    expect(await refusal(join(root, 'nowhere'))).toMatch(/model bundle not found/);
    const { dir } = await fakeBundle('bad');
    const original = await readFile(join(dir, 'manifest.json'), 'utf8');
    const restore = () => writeFileSync(join(dir, 'manifest.json'), original);
    const cases: [(m: BundleManifest) => void, RegExp][] = [
      [(m) => ((m as { format: string }).format = 'other'), /not a head3d DiffPortrait360 bundle/],
      [(m) => (m.version = 99), /bundle version 99/],
      [(m) => delete m.graphs['orbit/unet_cond'], /graph orbit\/unet_cond is missing/],
      [(m) => (m.graphs['back/controlnet'].signature.inputs[1].shape = ['B', 3, 32, 32]), /back\/controlnet has the wrong signature: hint has shape/],
      [(m) => m.graphs['orbit/unet_cond'].signature.inputs.pop(), /orbit\/unet_cond has the wrong signature: input ctrl_mid is missing/],
      [(m) => m.hints.pop(), /31 camera hints, expected 32/],
      [(m) => (m.contexts.orbit.shape = [1, 77, 768]), /orbit context has shape/],
      [(m) => (m.config.unet.modelChannels = 30), /modelChannels 30/],
      [(m) => (m.graphs['back/vae_decoder'].file = '../x.onnx'), /points outside the bundle/],
      [(m) => (m.sampler.steps = 0), /sampler.steps 0/],
    ];
    for (const [change, pattern] of cases) {
      await patch(dir, change);
      expect(await refusal(dir)).toMatch(pattern);
      restore();
    }
    expect(await refusal(dir, { verify: 'none' }).catch(() => 'ok')).toBe('ok');
  });

  it('accepts graphs that share one external-data file, hashing it once, and refuses disagreeing entries', async () => {
    const { dir } = await fakeBundle('shared');
    const data = 'graphs/orbit_unet_cond.onnx.data';
    writeFileSync(join(dir, data), 'shared weights');
    const entry = await describeBundleFile(dir, data);
    await patch(dir, (m) => {
      m.graphs['orbit/unet_cond'].externalData = entry;
      m.graphs['orbit/unet_uncond'].externalData = entry;
    });
    const bundle = await loadBundle(dir, { verify: 'all' });
    expect(bundle.hashed.filter((f) => f === data)).toHaveLength(1);
    await patch(dir, (m) => (m.graphs['orbit/unet_uncond'].externalData = { ...entry, bytes: entry.bytes + 1 }));
    expect(await refusal(dir)).toMatch(/graphs disagree on the size or sha256 of the shared external data graphs\/orbit_unet_cond.onnx.data/);
  });

  it('refuses missing, truncated and damaged files', async () => {
    const { dir } = await fakeBundle('files');
    writeFileSync(join(dir, 'hints/07.png'), 'hint X'); // same size, other bytes
    expect(await refusal(dir)).toMatch(/hints\/07.png is damaged/);
    await loadBundle(dir, { verify: 'none' });
    truncateSync(join(dir, 'graphs/orbit_appearance.onnx'), 3);
    expect(await refusal(dir, { verify: 'none' })).toMatch(/graphs\/orbit_appearance.onnx is 3 bytes, the manifest says/);
    rmSync(join(dir, 'graphs/back_unet_uncond.onnx'));
    expect(await refusal(dir, { verify: 'none' })).toMatch(/graphs\/back_unet_uncond.onnx is missing/);
    rmSync(join(dir, 'manifest.json'));
    expect(await refusal(dir)).toMatch(/no manifest.json/);
  });

  it('writeManifest refuses an incomplete manifest', async () => {
    const { dir, manifest } = await fakeBundle('write');
    const broken = { ...manifest, hints: manifest.hints.slice(0, 3) };
    await expect(writeManifest(dir, broken)).rejects.toThrow(/3 camera hints/);
  });

  it('describes signature differences', () => {
    const s = graphSignature(TINY_CONFIG, 'orbit', 'unet_uncond');
    expect(signatureDifference(s, s)).toBeUndefined();
    expect(signatureDifference(s, { inputs: s.inputs, outputs: [{ name: 'eps', type: 'int64', shape: s.outputs[0].shape }] })).toMatch(/eps is int64/);
  });
});
