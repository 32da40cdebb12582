import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { readDatasetJson } from '../../src/core/dataset-json.js';
import { readImage } from '../../src/core/image.js';
import { readTransformsJson } from '../../src/core/transforms-json.js';
import { SHARED_DATA, isOneLineUserError, runCli } from '../helpers/cli.js';

const astronaut = join(SHARED_DATA, 'portraits/astronaut.png');

describe('head3d preprocess', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'h3d-pp-'));
  });

  /** Runs preprocess and checks the four outputs; returns the camera's angles. */
  async function preprocessOk(input: string, name: string): Promise<{ yaw: number; pitch: number; roll: number }> {
    const out = join(dir, `out-${name}`);
    const result = await runCli(['--json', 'preprocess', input, '-o', out], { timeoutMs: 180_000 });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary.facesFound).toBeGreaterThanOrEqual(1);
    expect(summary.matte.source).toBe('segmentation');
    expect(summary.matte.faceCoverage).toBeGreaterThan(0.9);
    const crop = await readImage(join(out, 'crop.png'));
    expect([crop.width, crop.height]).toEqual([512, 512]);
    const alpha = crop.data.filter((_, i) => i % 4 === 3);
    expect(alpha[256 * 512 + 256]).toBeGreaterThan(200); // the face is foreground
    expect(alpha.filter((a) => a < 128).length / alpha.length).toBeGreaterThan(0.05); // some background
    const views = await readTransformsJson(join(out, 'camera.json'));
    expect(views.frames).toHaveLength(1);
    const [label] = await readDatasetJson(join(out, 'dataset.json'));
    expect(label.name).toBe('crop.png');
    expect(label.normalisedK).toEqual([4.2647, 0, 0.5, 0, 4.2647, 0.5, 0, 0, 1]);
    label.cam2world.forEach((v, i) => expect(v).toBeCloseTo(views.frames[0].camera.cam2world[i], 5));
    expect(existsSync(join(out, 'overlay.png'))).toBe(true);
    expect((await readdir(out)).filter((f) => f.includes('.tmp-'))).toEqual([]);
    return { yaw: summary.camera.yawDeg, pitch: summary.camera.pitchDeg, roll: summary.camera.rollDeg };
  }

  it('crops a portrait and writes crop.png, camera.json, dataset.json and overlay.png', async () => {
    const angles = await preprocessOk(astronaut, 'astronaut');
    expect(Math.abs(angles.yaw)).toBeLessThan(10);
    expect(Math.abs(angles.roll)).toBeLessThan(5);
  });

  it.each([
    ['grayscale', (s: sharp.Sharp) => s.grayscale().jpeg()],
    ['CMYK', (s: sharp.Sharp) => s.toColourspace('cmyk').jpeg()],
    ['16-bit', (s: sharp.Sharp) => s.toColourspace('rgb16').png()],
    ['alpha', (s: sharp.Sharp) => s.ensureAlpha().extend({ top: 64, bottom: 64, left: 64, right: 64, background: { r: 0, g: 0, b: 0, alpha: 0 } }).png()],
    ['EXIF-rotated', (s: sharp.Sharp) => s.rotate(-90).withMetadata({ orientation: 6 }).jpeg()],
  ])('reads a %s portrait', async (name, encode) => {
    const input = join(dir, `astronaut-${name}`);
    await writeFile(input, await encode(sharp(astronaut)).toBuffer());
    const angles = await preprocessOk(input, name);
    // Upright after EXIF orientation: the crop is level, so the camera has little roll.
    expect(Math.abs(angles.roll)).toBeLessThan(5);
    expect(Math.abs(angles.yaw)).toBeLessThan(10);
  });

  it('handles a 50-megapixel photo', async () => {
    const input = join(dir, 'huge.jpg');
    await writeFile(input, await sharp(astronaut).resize(7100, 7100).jpeg({ quality: 80 }).toBuffer());
    const angles = await preprocessOk(input, 'huge');
    expect(Math.abs(angles.yaw)).toBeLessThan(10);
  });

  it('refuses bad input with a one-line error and writes nothing', async () => {
    const notImage = join(dir, 'notes.jpg');
    await writeFile(notImage, 'this is text, not a JPEG');
    const truncated = join(dir, 'truncated.jpg');
    await writeFile(truncated, (await readFile(join(SHARED_DATA, 'portraits/obama_official.jpg'))).subarray(0, 20_000));
    const noFace = join(dir, 'no-face.png');
    await writeFile(noFace, await sharp({ create: { width: 400, height: 400, channels: 3, background: '#6a8' } }).png().toBuffer());
    const smallFace = join(dir, 'small-face.png');
    await writeFile(smallFace, await sharp(astronaut).resize(160, 160).extend({ top: 400, bottom: 400, left: 400, right: 400, background: '#888' }).png().toBuffer());
    const cases: [string, RegExp][] = [
      [notImage, /not an image/],
      [truncated, /damaged or truncated/],
      [join(dir, 'missing.jpg'), /portrait not found/],
      [noFace, /no face found/],
      [smallFace, /face is too small/],
    ];
    for (const [input, message] of cases) {
      const out = join(dir, 'refused');
      const result = await runCli(['--quiet', 'preprocess', input, '-o', out]);
      expect(isOneLineUserError(result), result.stderr).toBe(true);
      expect(result.stderr).toMatch(message);
      expect(existsSync(out) ? await readdir(out) : []).toEqual([]);
    }
  });
});
