import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadBundle } from '../../../src/generate/diffportrait360/bundle.js';
import { TINY_CONFIG } from '../../../src/generate/diffportrait360/config.js';
import { createOnnxRuntime, onnxProviders } from '../../../src/generate/diffportrait360/runtime/onnx-runtime.js';
import { checkInputs, float32Tensor, timestepTensor } from '../../../src/generate/diffportrait360/runtime/tensor.js';
import { graphSignature } from '../../../src/generate/diffportrait360/signatures.js';
import { writeFakeBundle } from './bundle-fixture.js';

const root = mkdtempSync(join(tmpdir(), 'head3d-runtime-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const context = () => float32Tensor(new Float32Array(77 * 32), [1, 77, 32]);
const latent = (b: number) => float32Tensor(new Float32Array(b * 4 * 64), [b, 4, 8, 8]);

describe('graph input checks', () => {
  const uncond = graphSignature(TINY_CONFIG, 'orbit', 'unet_uncond');
  const decoder = graphSignature(TINY_CONFIG, 'orbit', 'vae_decoder');
  const image = (n: number) => float32Tensor(new Float32Array(n * 3 * 64 * 64), [n, 3, 64, 64]);
  it('accepts the declared shapes and binds the symbolic image batch N', () => {
    expect(checkInputs('orbit/unet_uncond', uncond, { x: latent(8), timestep: timestepTensor(981, 8), context: context() })).toEqual({});
    expect(checkInputs('orbit/vae_decoder', decoder, { latent: latent(3) })).toEqual({ N: 3 });
  });
  it('names the input and the expected shape on a mismatch', () => {
    expect(() => checkInputs('orbit/unet_uncond', uncond, { x: float32Tensor(new Float32Array(8 * 4 * 256), [8, 4, 16, 16]), timestep: timestepTensor(1, 8), context: context() }))
      .toThrow('graph orbit/unet_uncond: input x has shape [8,4,16,16], expected [8,4,8,8]');
    // The orbit UNet's frame batch is one temporal window.
    expect(() => checkInputs('orbit/unet_uncond', uncond, { x: latent(4), timestep: timestepTensor(1, 4), context: context() })).toThrow(/input x has shape \[4,4,8,8\], expected \[8,4,8,8\]/);
    const encoder = graphSignature(TINY_CONFIG, 'orbit', 'vae_encoder');
    expect(checkInputs('orbit/vae_encoder', encoder, { image: image(2) })).toEqual({ N: 2 });
    expect(() => checkInputs('orbit/unet_uncond', uncond, { x: latent(8), timestep: timestepTensor(1, 8) })).toThrow(/input context is missing/);
    expect(() => checkInputs('orbit/unet_uncond', uncond, { x: latent(8), timestep: float32Tensor(new Float32Array(8), [8]), context: context() })).toThrow(/timestep is float32, expected int64/);
    expect(() => checkInputs('orbit/unet_uncond', uncond, { x: latent(8), timestep: timestepTensor(1, 8), context: context(), y: latent(1) })).toThrow(/unexpected input y/);
  });
});

describe('onnxruntime-node runtime', () => {
  it('lists the execution providers', async () => {
    const providers = await onnxProviders();
    expect(providers.version).toMatch(/^1\./);
    expect(providers.backends.map((b) => b.name)).toContain('cpu');
  });

  it('checks inputs before opening a graph, and names a graph it cannot open', async () => {
    const { dir } = await writeFakeBundle(join(root, 'b'));
    const runtime = await createOnnxRuntime(await loadBundle(dir), { provider: 'cpu', threads: 1 });
    expect(runtime.provider).toBe('cpu');
    await expect(runtime.run('orbit', 'unet_uncond', { x: latent(8), timestep: timestepTensor(1, 8), context: float32Tensor(new Float32Array(77 * 16), [1, 77, 16]) }))
      .rejects.toThrow(/input context has shape \[1,77,16\], expected \[1,77,32\]/);
    await expect(runtime.run('orbit', 'unet_uncond', { x: latent(8), timestep: timestepTensor(1, 8), context: context() })).rejects.toThrow(/cannot open graph orbit\/unet_uncond/);
    await runtime.release();
  });

  it('notes that an fp16 bundle on the CPU provider runs but is slower', async () => {
    const { dir } = await writeFakeBundle(join(root, 'fp16'));
    const bundle = await loadBundle(dir);
    const notes: string[] = [];
    await createOnnxRuntime({ ...bundle, manifest: { ...bundle.manifest, precision: 'fp16' } }, { provider: 'cpu', onNote: (line) => notes.push(line) });
    expect(notes.join('\n')).toMatch(/fp16 bundle .* CPU provider: it works/);
    notes.length = 0;
    await createOnnxRuntime(bundle, { provider: 'cpu', onNote: (line) => notes.push(line) });
    expect(notes.join('\n')).not.toMatch(/fp16/);
  });

  it('refuses --provider cuda where the CUDA provider is not installed', async () => {
    const providers = await onnxProviders();
    if (providers.cudaInstalled) return;
    const { dir } = await writeFakeBundle(join(root, 'c'));
    await expect(createOnnxRuntime(await loadBundle(dir), { provider: 'cuda' })).rejects.toThrow(/CUDA execution provider is not installed/);
  });
});
