import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { panoheadOrbit } from '../../../src/core/camera.js';
import { createImage, readImage } from '../../../src/core/image.js';
import { readTransformsJson } from '../../../src/core/transforms-json.js';
import { writeGeneratedViews } from '../../../src/generate/diffportrait360/write-views.js';

const root = mkdtempSync(join(tmpdir(), 'head3d-dp360-views-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A grey disc (the "head") on a plain brown background, like the reference's frames. */
function frame(size: number, shade: number) {
  const image = createImage(size, size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const p = (y * size + x) * 4;
      const inside = (x - size / 2) ** 2 + (y - size / 2) ** 2 < (size / 4) ** 2;
      image.data.set(inside ? [shade, shade, shade, 255] : [120, 80, 50, 255], p);
    }
  }
  return image;
}

describe('generated view set', () => {
  it('writes 32 keyed frames, back.png and transforms.json on the PanoHead orbit', async () => {
    const out = join(root, 'views');
    const frames = Array.from({ length: 32 }, (_, k) => frame(64, 100 + k * 4));
    const result = await writeGeneratedViews(frames, frame(64, 10), out, { metadata: { head3d: { generator: 'diffportrait360' } } });
    expect(result.views).toBe(32);
    expect(result.matted).toBe(32);
    const viewSet = await readTransformsJson(join(out, 'transforms.json'));
    const orbit = panoheadOrbit({ size: 64 });
    expect(viewSet.frames).toHaveLength(32);
    viewSet.frames.forEach((f, k) => {
      expect(f.filePath).toBe(`frame_${String(k).padStart(3, '0')}.png`);
      f.camera.cam2world.forEach((v, i) => expect(v).toBeCloseTo(orbit[k].cam2world[i], 9));
      expect(f.camera.intrinsics.width).toBe(64);
    });
    const first = await readImage(join(out, 'frame_000.png'));
    expect(first.data[3]).toBe(0); // corner: background keyed out
    expect(first.data[(32 * 64 + 32) * 4 + 3]).toBe(255); // centre: the head
    expect(first.data[(32 * 64 + 32) * 4]).toBe(100);
    expect(existsSync(join(out, 'back.png'))).toBe(true);
    expect(readdirSync(root).filter((n) => n.includes('.tmp-'))).toEqual([]);

    // A rerun replaces the folder as a whole: stale files go, nothing half-written is left.
    writeFileSync(join(out, 'stale.png'), 'x');
    await writeGeneratedViews(frames, frame(64, 10), out, { matte: false });
    expect(existsSync(join(out, 'stale.png'))).toBe(false);
    expect((await readImage(join(out, 'frame_000.png'))).data[3]).toBe(255);
    expect(readdirSync(root)).toEqual(['views']);
  });

  it('mattes frames on a busy background with the injected model', async () => {
    const busy = createImage(16, 16);
    for (let p = 0; p < 256; p++) busy.data.set([(p * 37) % 256, (p * 91) % 256, (p * 13) % 256, 255], p * 4);
    const out = join(root, 'busy');
    let calls = 0;
    const result = await writeGeneratedViews([busy, frame(16, 200)], busy, out, {
      matteModel: async (image) => {
        calls++;
        return new Uint8Array(image.width * image.height).fill(77);
      },
    });
    expect(calls).toBe(1);
    expect([result.matted, result.modelMatted, result.opaque]).toEqual([1, 1, 0]);
    const first = await readImage(join(out, 'frame_000.png'));
    expect(first.data[3]).toBe(77);
    expect(first.data[0]).toBe(busy.data[0]);
    const unmatted = await writeGeneratedViews([busy], busy, join(root, 'busy2'));
    expect([unmatted.matted, unmatted.modelMatted, unmatted.opaque]).toEqual([0, 0, 1]);
    rmSync(join(root, 'busy'), { recursive: true });
    rmSync(join(root, 'busy2'), { recursive: true });
  });

  it('refuses a file as the output folder', async () => {
    const file = join(root, 'file');
    writeFileSync(file, 'x');
    await expect(writeGeneratedViews([frame(16, 1)], frame(16, 1), file)).rejects.toThrow(/is a file, not a folder/);
  });
});
