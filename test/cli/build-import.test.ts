import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readImage } from '../../src/core/image.js';
import { renderViews } from '../../src/eval/render-views.js';
import { validateGlb } from '../../src/export/gltf/validate.js';
import { isOneLineUserError, runCli } from '../helpers/cli.js';
import { texturedSphere } from '../helpers/procedural.js';

const hasFfmpeg = spawnSync('ffmpeg', ['-version']).status === 0;

/** Encodes `frames` (flattened on white, as the reference implementation's videos look) into an H.264 mp4. */
async function encodeVideo(dir: string, frames: number, video: string): Promise<void> {
  const flat = join(dir, `flat-${frames}`);
  mkdirSync(flat, { recursive: true });
  for (let k = 0; k < frames; k++) {
    const name = `frame_${String(k).padStart(3, '0')}.png`;
    await sharp(join(dir, 'rendered', name)).flatten({ background: '#ffffff' }).removeAlpha().png().toFile(join(flat, name));
  }
  const result = spawnSync('ffmpeg', ['-nostdin', '-v', 'error', '-y', '-framerate', '10', '-i', join(flat, 'frame_%03d.png'), '-c:v', 'libx264', '-pix_fmt', 'yuv420p', video]);
  if (result.status !== 0) throw new Error(result.stderr.toString());
}

describe('head3d build --generator import with a video', () => {
  const dir = mkdtempSync(join(tmpdir(), 'head3d-build-import-'));
  const video = join(dir, 'orbit.mp4');
  beforeAll(async () => {
    await renderViews(texturedSphere(0.25), join(dir, 'rendered'), { size: 64, holdout: 2, supersample: 1 });
    if (hasFfmpeg) await encodeVideo(dir, 32, video);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.skipIf(!hasFfmpeg)('decodes the 32-frame orbit video, keys its matte from the background and builds a valid glb', async () => {
    const output = join(dir, 'video.glb');
    const result = await runCli(['--json', 'build', '--views', video, '--holdout', join(dir, 'rendered/holdout/transforms.json'), '-o', output, '--quality', 'test'], { timeoutMs: 240_000 });
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout) as { generator: string; stages: { stage: string; facts: Record<string, unknown> }[] };
    expect(summary.generator).toBe('import');
    const generate = summary.stages.find((s) => s.stage === 'generate')!.facts;
    expect(generate).toMatchObject({ kind: 'video', views: 32, mattedFrames: 32, opaqueFrames: 0, holdoutViews: 2 });
    expect(typeof summary.stages.find((s) => s.stage === 'fit')!.facts.holdoutPsnr).toBe('number');
    const validation = await validateGlb(new Uint8Array(readFileSync(output)));
    expect(validation.errors, validation.messages.join('\n')).toBe(0);

    // The keyed matte of a decoded frame matches the alpha it was rendered with.
    const truth = await readImage(join(dir, 'rendered/frame_005.png'));
    const keyed = await readImage(join(dir, 'video.work/views/frames/frame_005.png'));
    let both = 0, either = 0;
    for (let p = 3; p < truth.data.length; p += 4) {
      const a = truth.data[p] > 127, b = keyed.data[p] > 127;
      if (a && b) both++;
      if (a || b) either++;
    }
    expect(both / either).toBeGreaterThan(0.9);
  }, 300_000);

  it.skipIf(!hasFfmpeg)('refuses a video that is not a 32-frame orbit with a one-line error', async () => {
    const short = join(dir, 'short.mp4');
    await encodeVideo(dir, 5, short);
    const result = await runCli(['--quiet', 'build', '--views', short, '-o', join(dir, 'short.glb'), '--quality', 'test']);
    expect(isOneLineUserError(result), result.stderr).toBe(true);
    expect(result.stderr).toMatch(/holds 5 frames; a PanoHead orbit has 32/);
    expect(existsSync(join(dir, 'short.glb'))).toBe(false);
  }, 60_000);

  it('says how to install ffmpeg when there is none', async () => {
    const fake = join(dir, 'fake.mp4');
    await sharp({ create: { width: 8, height: 8, channels: 3, background: '#fff' } }).png().toFile(fake); // never decoded
    const saved = process.env.HEAD3D_FFMPEG;
    process.env.HEAD3D_FFMPEG = join(dir, 'no-such-ffmpeg');
    try {
      const result = await runCli(['--quiet', 'build', '--views', fake, '-o', join(dir, 'fake.glb'), '--quality', 'test']);
      expect(isOneLineUserError(result), result.stderr).toBe(true);
      expect(result.stderr).toMatch(/needs ffmpeg/);
      expect(result.stderr).toMatch(/apt-get install ffmpeg/);
    } finally {
      if (saved === undefined) delete process.env.HEAD3D_FFMPEG;
      else process.env.HEAD3D_FFMPEG = saved;
    }
  });
});
