import { mkdtemp, readFile, readdir, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { Head3dError } from '../../src/core/errors.js';
import { decodeImage, readImage, resizeImage, scalableImageFromBytes, writePng } from '../../src/core/image.js';
import { SHARED_DATA } from '../helpers/cli.js';
import { writeFileAtomic } from '../../src/core/atomic.js';

const W = 6, H = 4;
const rgb = Buffer.alloc(W * H * 3);
for (let i = 0; i < W * H; i++) {
  rgb[i * 3] = i * 10;
  rgb[i * 3 + 1] = 200 - i * 5;
  rgb[i * 3 + 2] = 77;
}
const source = () => sharp(rgb, { raw: { width: W, height: H, channels: 3 } });
const pixel = (data: Uint8Array, width: number, x: number, y: number) => Array.from(data.slice((y * width + x) * 4, (y * width + x) * 4 + 4));

describe('image input is normalised to RGBA8 sRGB', () => {
  it('8-bit RGB PNG gains an opaque alpha', async () => {
    const image = await decodeImage(await source().png().toBuffer());
    expect([image.width, image.height]).toEqual([W, H]);
    expect(pixel(image.data, W, 1, 0)).toEqual([10, 195, 77, 255]);
  });

  it('16-bit PNG comes back as 8-bit with the same colours', async () => {
    const png16 = await source().toColourspace('rgb16').png().toBuffer();
    expect((await sharp(png16).metadata()).depth).toBe('ushort');
    const image = await decodeImage(png16);
    expect(image.data).toBeInstanceOf(Uint8Array);
    expect(pixel(image.data, W, 1, 0)).toEqual([10, 195, 77, 255]);
  });

  it('grayscale expands to three equal channels', async () => {
    const gray = await source().toColourspace('b-w').png().toBuffer();
    expect((await sharp(gray).metadata()).channels).toBe(1);
    const image = await decodeImage(gray);
    const [r, g, b, a] = pixel(image.data, W, 2, 1);
    expect(r).toBe(g);
    expect(g).toBe(b);
    expect(a).toBe(255);
  });

  it('CMYK JPEG is converted to RGB', async () => {
    const grey = await sharp({ create: { width: W, height: H, channels: 3, background: { r: 128, g: 128, b: 128 } } })
      .toColourspace('cmyk').jpeg({ quality: 100 }).toBuffer();
    expect((await sharp(grey).metadata()).space).toBe('cmyk');
    const image = await decodeImage(grey);
    const [r, g, b, a] = pixel(image.data, W, 0, 0);
    for (const c of [r, g, b]) expect(Math.abs(c - 128)).toBeLessThan(20);
    expect(a).toBe(255);
  });

  it('keeps a real alpha channel', async () => {
    const rgba = Buffer.alloc(W * H * 4, 200);
    rgba[3] = 0;
    rgba[7] = 99;
    const image = await decodeImage(await sharp(rgba, { raw: { width: W, height: H, channels: 4 } }).png().toBuffer());
    expect(pixel(image.data, W, 0, 0)[3]).toBe(0);
    expect(pixel(image.data, W, 1, 0)).toEqual([200, 200, 200, 99]);
  });

  it('applies the EXIF orientation', async () => {
    // 32×16: left half red, right half blue. Orientation 6 means "rotate 90° clockwise to view",
    // which brings the left half to the top.
    const w = 32, h = 16;
    const halves = Buffer.alloc(w * h * 3);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) halves[(y * w + x) * 3 + (x < w / 2 ? 0 : 2)] = 255;
    const rotated = await sharp(halves, { raw: { width: w, height: h, channels: 3 } })
      .jpeg({ quality: 100 }).withMetadata({ orientation: 6 }).toBuffer();
    const image = await decodeImage(rotated);
    expect([image.width, image.height]).toEqual([h, w]);
    const top = pixel(image.data, h, h / 2, 2);
    const bottom = pixel(image.data, h, h / 2, w - 3);
    expect(top[0]).toBeGreaterThan(200);
    expect(top[2]).toBeLessThan(50);
    expect(bottom[2]).toBeGreaterThan(200);
    expect(bottom[0]).toBeLessThan(50);
  });
});

describe('scalableImageFromBytes', () => {
  const meanDifference = (a: Uint8Array, b: Uint8Array) => {
    let sum = 0;
    for (let i = 0; i < a.length; i++) sum += Math.abs(a[i] - b[i]);
    return sum / a.length;
  };

  it('decodes a photo at a smaller size like decoding it whole and resizing, and the full size exactly', async () => {
    // obama_official.jpg is a baseline JPEG (shrunk while decoding); astronaut.png is not.
    for (const file of ['obama_official.jpg', 'astronaut.png']) {
      const bytes = await readFile(join(SHARED_DATA, 'portraits', file));
      const whole = await decodeImage(bytes);
      const scalable = await scalableImageFromBytes(bytes, file);
      expect([scalable.width, scalable.height]).toEqual([whole.width, whole.height]);
      expect(Buffer.compare(Buffer.from((await scalable.atMost(100_000)).data), Buffer.from(whole.data))).toBe(0);
      const small = await scalable.atMost(300);
      expect(Math.max(small.width, small.height)).toBe(300);
      const reference = await resizeImage(whole, small.width, small.height);
      expect(meanDifference(small.data, reference.data), file).toBeLessThan(2); // levels of 255
      expect(await scalable.atMost(300)).toBe(small); // each size is decoded once
    }
  });

  it('reports the size after EXIF orientation and decodes upright', async () => {
    const w = 64, h = 32;
    const halves = Buffer.alloc(w * h * 3);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) halves[(y * w + x) * 3 + (x < w / 2 ? 0 : 2)] = 255;
    const rotated = await sharp(halves, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 100 }).withMetadata({ orientation: 6 }).toBuffer();
    const scalable = await scalableImageFromBytes(rotated);
    expect([scalable.width, scalable.height]).toEqual([h, w]);
    const small = await scalable.atMost(16);
    expect([small.width, small.height]).toEqual([8, 16]);
    expect(pixel(small.data, 8, 4, 1)[0]).toBeGreaterThan(200); // red on top
    expect(pixel(small.data, 8, 4, 14)[2]).toBeGreaterThan(200); // blue below
  });

  it('refuses a truncated JPEG when its pixels are decoded, in one line', async () => {
    const bytes = await readFile(join(SHARED_DATA, 'portraits', 'obama_official.jpg'));
    // Cut after the header: the size reads fine, the pixels do not.
    const scalable = await scalableImageFromBytes(bytes.subarray(0, Math.floor(bytes.length * 0.6)), 'cut.jpg');
    expect(scalable.width).toBeGreaterThan(0);
    const error = await scalable.atMost(200).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Head3dError);
    expect((error as Error).message).toMatch(/cut.jpg is damaged or truncated/);
    expect((error as Error).message).not.toContain('\n');
  });
});

describe('bad image input is a one-line user error', () => {
  it('refuses truncated PNG and JPEG, non-images, empty and missing files', async () => {
    const png = await source().png().toBuffer();
    const jpeg = await source().jpeg().toBuffer();
    const cases: [Uint8Array, RegExp][] = [
      [png.subarray(0, png.length - 20), /damaged or truncated/],
      [jpeg.subarray(0, Math.floor(jpeg.length / 2)), /damaged or truncated/],
      [Buffer.from('certainly not an image'), /not an image head3d can read/],
      [new Uint8Array(0), /is empty/],
    ];
    for (const [bytes, message] of cases) {
      const error = await decodeImage(bytes, 'x').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Head3dError);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).not.toContain('\n');
    }
    await expect(readImage('/nonexistent/portrait.jpg')).rejects.toThrow(/image not found/);
  });
});

describe('atomic writes', () => {
  it('leaves no temporary files and no partial file on failure', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'h3d-img-'));
    await writePng(join(dir, 'sub', 'a.png'), { width: 2, height: 1, data: new Uint8Array([1, 2, 3, 255, 4, 5, 6, 255]) });
    expect(await readdir(join(dir, 'sub'))).toEqual(['a.png']);
    const back = await readImage(join(dir, 'sub', 'a.png'));
    expect(Array.from(back.data)).toEqual([1, 2, 3, 255, 4, 5, 6, 255]);

    const locked = join(dir, 'locked');
    await writeFile(join(dir, 'placeholder'), '');
    await (await import('node:fs/promises')).mkdir(locked);
    await chmod(locked, 0o500);
    if (process.getuid?.() !== 0) {
      await expect(writeFileAtomic(join(locked, 'x.bin'), 'data')).rejects.toThrow(/permission denied/);
    }
    // A parent that is a file is refused whoever we are.
    await expect(writeFileAtomic(join(dir, 'placeholder', 'x.bin'), 'data')).rejects.toBeInstanceOf(Head3dError);
  });
});
