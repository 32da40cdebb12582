import { describe, expect, it } from 'vitest';
import { createImage } from '../../../src/core/image.js';
import { DEFAULT_SAMPLER } from '../../../src/generate/diffportrait360/bundle-manifest.js';
import { FULL_CONFIG, TINY_CONFIG, latentSize } from '../../../src/generate/diffportrait360/config.js';
import { type GenerateProgress, generateViews } from '../../../src/generate/diffportrait360/generate-views.js';
import { ddimStep, guidedEpsilon } from '../../../src/generate/diffportrait360/sampler/ddim.js';
import { ddimSchedule } from '../../../src/generate/diffportrait360/sampler/schedule.js';
import { bankEntries, bankName } from '../../../src/generate/diffportrait360/signatures.js';
import { FakeRuntime, fakeEpsCond, fakeEpsUncond, fakeModels } from './fake-runtime.js';

function portrait(size = 512) {
  const image = createImage(size, size);
  for (let p = 0; p < size * size; p++) {
    image.data[p * 4] = (p * 7) % 256;
    image.data[p * 4 + 1] = 120;
    image.data[p * 4 + 2] = (p >> 9) % 256;
    image.data[p * 4 + 3] = p % 3 === 0 ? 0 : 255; // a matte that must not change anything
  }
  return image;
}

const STEPS = 4;
const latentLength = 4 * latentSize(TINY_CONFIG) ** 2;

describe('DiffPortrait360 driver on a fake runtime', async () => {
  const runtime = new FakeRuntime();
  const progress: GenerateProgress[] = [];
  const notes: string[] = [];
  const result = await generateViews(fakeModels(), runtime, { crop: portrait() }, { steps: STEPS, seed: 5, onProgress: (p) => progress.push(p), onNote: (l) => notes.push(l) });
  const back = runtime.calls.filter((c) => c.model === 'back');
  const orbit = runtime.calls.filter((c) => c.model === 'orbit');
  const schedule = ddimSchedule(DEFAULT_SAMPLER, STEPS);

  it('returns 32 frames in orbit order and a back view', () => {
    expect(result.frames).toHaveLength(32);
    expect(result.back.width).toBe(64);
    expect(result.steps).toBe(STEPS);
    expect(result.initialNoise).toBe('gaussian');
    for (const frame of result.frames) expect(frame.width).toBe(TINY_CONFIG.imageSize);
    // Frames of different hints come out different (the fake ControlNet passes the hint through).
    expect(new Set(result.frames.map((f) => f.data[0])).size).toBeGreaterThan(8);
  });

  it('runs the back-view stage at B = 1 with hint frame 16 and one reference', () => {
    const controlnet = back.filter((c) => c.graph === 'controlnet');
    expect(controlnet).toHaveLength(STEPS);
    for (const c of controlnet) {
      expect(c.dims.x).toEqual([1, 4, 8, 8]);
      expect(c.feeds.hint[0]).toBeCloseTo((16 - 16) / 20);
    }
    expect(back.filter((c) => c.graph === 'appearance')).toHaveLength(STEPS);
    expect(back.filter((c) => c.graph === 'vae_encoder')).toHaveLength(1);
    const cond = back.find((c) => c.graph === 'unet_cond')!;
    bankEntries(TINY_CONFIG).forEach((e, j) => expect(cond.dims[bankName(j)]).toEqual([1, e.tokens, e.channels]));
    expect(back.map((c) => c.timestep).filter((t) => t !== undefined)[0]).toBe(schedule.steps[0].timestep);
    // The back model is released before the orbit starts.
    expect(runtime.released[0]).toBe('back');
  });

  it('computes the banks once per step per reference, not per window, and shares [front ‖ back]', () => {
    const appearance = orbit.filter((c) => c.graph === 'appearance');
    expect(appearance).toHaveLength(2 * STEPS);
    const cond = orbit.filter((c) => c.graph === 'unet_cond');
    expect(cond).toHaveLength(4 * STEPS);
    for (let i = 0; i < STEPS; i++) {
      const [front, backRef] = [appearance[2 * i], appearance[2 * i + 1]];
      expect(front.timestep).toBe(schedule.steps[i].timestep);
      expect(front.feeds.ref_latent).not.toEqual(backRef.feeds.ref_latent);
      for (let w = 0; w < 4; w++) {
        const call = cond[4 * i + w];
        bankEntries(TINY_CONFIG).forEach((e, j) => {
          const bank = call.feeds[bankName(j)];
          expect(call.dims[bankName(j)]).toEqual([1, 2 * e.tokens, e.channels]);
          const half = e.tokens * e.channels;
          const frontSum = front.feeds.ref_latent.reduce((s, v) => s + v, 0);
          const backSum = backRef.feeds.ref_latent.reduce((s, v) => s + v, 0);
          const t = schedule.steps[i].timestep;
          expect(bank[0]).toBeCloseTo(frontSum * 0.01 + j + t * 1e-3, 4);
          expect(bank[half]).toBeCloseTo(backSum * 0.01 + j + t * 1e-3, 4);
        });
      }
    }
  });

  it('advances the 4 windows in lock-step with their own 8 hints', () => {
    const sequence = orbit.filter((c) => !c.graph.startsWith('vae_')).map((c) => c.graph);
    const oneStep = ['appearance', 'appearance', ...Array.from({ length: 4 }, () => ['controlnet', 'unet_cond', 'unet_uncond']).flat()];
    expect(sequence).toEqual(Array.from({ length: STEPS }, () => oneStep).flat());
    const controlnet = orbit.filter((c) => c.graph === 'controlnet');
    controlnet.forEach((call, n) => {
      const w = n % 4;
      expect(call.dims.x).toEqual([8, 4, 8, 8]);
      expect(call.dims.timestep).toEqual([8]);
      expect(call.timestep).toBe(schedule.steps[Math.floor(n / 4)].timestep);
      const per = 3 * 64 * 64;
      for (let k = 0; k < 8; k++) expect(call.feeds.hint[k * per]).toBeCloseTo((w * 8 + k - 16) / 20, 6);
    });
    // The reference latents and context are the same tensors in every window.
    expect(orbit.filter((c) => c.graph === 'unet_uncond').every((c) => c.dims.context.join() === '1,77,32')).toBe(true);
  });

  it('decodes in small batches and ends with the orbit', () => {
    const decodes = orbit.filter((c) => c.graph === 'vae_decoder');
    expect(decodes.reduce((n, c) => n + c.dims.latent[0], 0)).toBe(32);
    expect(Math.max(...decodes.map((c) => c.dims.latent[0]))).toBeLessThanOrEqual(2);
    expect(back.filter((c) => c.graph === 'vae_decoder')).toHaveLength(1);
    // The back view's decoded latent is divided by the latent scale.
    const lastBackCond = back.filter((c) => c.graph === 'unet_cond').at(-1)!;
    expect(lastBackCond).toBeDefined();
  });

  it('reports an estimate and progress per step and window', () => {
    expect(notes.some((n) => /estimated/.test(n))).toBe(true);
    expect(progress.filter((p) => p.stage === 'back' && p.done > 0)).toHaveLength(STEPS);
    expect(progress.filter((p) => p.stage === 'orbit' && p.window !== undefined)).toHaveLength(4 * STEPS);
    expect(progress.filter((p) => p.stage === 'orbit').every((p) => p.etaSeconds !== undefined)).toBe(true);
  });

  it('is reproducible for a seed', async () => {
    const again = await generateViews(fakeModels(), new FakeRuntime(), { crop: portrait() }, { steps: STEPS, seed: 5 });
    expect(again.frames.map((f) => f.data[0])).toEqual(result.frames.map((f) => f.data[0]));
    const other = new FakeRuntime();
    await generateViews(fakeModels(), other, { crop: portrait() }, { steps: STEPS, seed: 6 });
    const x0 = (r: FakeRuntime) => r.calls.find((c) => c.model === 'orbit' && c.graph === 'controlnet')!.feeds.x;
    expect(x0(other)).not.toEqual(x0(runtime));
  });
});

describe('CFG and DDIM inside the driver', () => {
  it('feeds each step the DDIM update of the guided ε (η = 0: no step noise)', async () => {
    const sampler = { ...DEFAULT_SAMPLER, eta: 0 };
    const runtime = new FakeRuntime();
    await generateViews(fakeModels(sampler), runtime, { crop: portrait(64) }, { steps: 5, seed: 1 });
    const schedule = ddimSchedule(sampler, 5);
    const calls = runtime.calls.filter((c) => c.model === 'orbit');
    const cond = calls.filter((c) => c.graph === 'unet_cond');
    for (let w = 0; w < 4; w++) {
      for (let i = 0; i < 4; i++) {
        const call = cond[4 * i + w];
        const x = call.feeds.x;
        let bankSum = 0;
        bankEntries(TINY_CONFIG).forEach((_, j) => (bankSum += call.feeds[bankName(j)].reduce((s, v) => s + v, 0)));
        const ctrl = call.feeds.ctrl_00;
        const per = ctrl.length / 8;
        const epsC = fakeEpsCond(x, bankSum, Array.from({ length: 8 }, (_, k) => ctrl[k * per] * 0.05), latentLength);
        const eps = guidedEpsilon(epsC, fakeEpsUncond(x), 3);
        const expected = ddimStep(x, eps, schedule.steps[i]).x;
        expect(cond[4 * (i + 1) + w].feeds.x).toEqual(expected);
      }
    }
  });

  it('starts from 3D-aware noise when noise frames are given', async () => {
    const runtime = new FakeRuntime();
    const frames = Array.from({ length: 32 }, () => portrait(64));
    const result = await generateViews(fakeModels(), runtime, { crop: portrait(64), noiseFrames: frames }, { steps: 2 });
    expect(result.initialNoise).toBe('3d-aware');
    const encodes = runtime.calls.filter((c) => c.model === 'orbit' && c.graph === 'vae_encoder');
    expect(encodes).toHaveLength(2 + 32);
    const plain = new FakeRuntime();
    await generateViews(fakeModels(), plain, { crop: portrait(64) }, { steps: 2 });
    const first = (r: FakeRuntime) => r.calls.find((c) => c.model === 'orbit' && c.graph === 'controlnet')!.feeds.x;
    expect(first(runtime)).not.toEqual(first(plain));
    await expect(generateViews(fakeModels(), new FakeRuntime(), { crop: portrait(64), noiseFrames: frames.slice(1) }, { steps: 2 })).rejects.toThrow(/31 frames/);
  });
});

describe('full-size shapes', () => {
  it('drives the full-size graph signatures (one step, fake runtime)', async () => {
    const runtime = new FakeRuntime(FULL_CONFIG, false);
    const result = await generateViews(fakeModels(DEFAULT_SAMPLER, FULL_CONFIG), runtime, { crop: portrait(512) }, { steps: 1 });
    expect(result.frames).toHaveLength(32);
    expect(result.frames[0].width).toBe(512);
    const cond = runtime.calls.find((c) => c.model === 'orbit' && c.graph === 'unet_cond')!;
    expect(cond.dims.x).toEqual([8, 4, 64, 64]);
    expect(cond.dims.bank_00).toEqual([1, 2 * 4096, 320]);
    expect(cond.dims.bank_06).toEqual([1, 2 * 64, 1280]);
    expect(cond.dims.ctrl_mid).toEqual([8, 1280, 8, 8]);
    expect(cond.dims.context).toEqual([1, 77, 768]);
  }, 120_000);
});
