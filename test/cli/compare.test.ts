import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RgbaImage, readImage } from '../../src/core/image.js';
import { WHITE, alphaUnionMask, compareImages, psnr, ssim } from '../../src/eval/metrics.js';
import { type CliResult, REPO_ROOT, isOneLineUserError, runCli } from '../helpers/cli.js';

const head3d = (...args: string[]): Promise<CliResult> => runCli(args);

/** An RGBA test image: a lit rectangle (alpha 255) on a transparent surround, texture varied by `seed`. */
function render(width: number, height: number, seed: number, left: number): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      const inside = x >= left && x < left + 20 && y >= 4 && y < height - 4;
      data[i] = (x * 7 + y * 3 + seed * 11) % 256;
      data[i + 1] = (128 + 100 * Math.sin((x + seed) / 4)) | 0;
      data[i + 2] = (y * 9 + ((x * seed) % 13)) % 256;
      data[i + 3] = inside ? 255 : 0;
    }
  }
  return { width, height, data };
}

async function writeRgbaPng(path: string, image: RgbaImage): Promise<void> {
  await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 4 } }).png().toFile(path);
}

async function writeViewSet(dir: string, frames: Record<string, RgbaImage>): Promise<void> {
  await mkdir(dir, { recursive: true });
  const entries = [];
  for (const [name, image] of Object.entries(frames)) {
    await writeRgbaPng(join(dir, name), image);
    entries.push({ file_path: name, transform_matrix: [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 2.7], [0, 0, 0, 1]] });
  }
  const json = { fl_x: 120, fl_y: 120, w: 40, h: 32, frames: entries };
  await writeFile(join(dir, 'transforms.json'), JSON.stringify(json));
}

/** A one-line user error whose first line matches `message`, with nothing on stdout. */
function expectUserError(result: CliResult, message: RegExp): void {
  expect(isOneLineUserError(result), result.stderr).toBe(true);
  expect(result.stderr.split('\n')[0]).toMatch(message);
  expect(result.stdout).toBe('');
}

describe('head3d compare', () => {
  let dir: string;
  const a = render(40, 32, 1, 8);
  const b = render(40, 32, 2, 11);

  beforeAll(async () => {
    const cli = join(REPO_ROOT, 'dist/cli/main.js');
    if (!existsSync(cli)) throw new Error(`${cli} is missing: run "npm run build" first`);
    dir = await mkdtemp(join(tmpdir(), 'head3d-compare-'));
    await writeRgbaPng(join(dir, 'a.png'), a);
    await writeRgbaPng(join(dir, 'b.png'), b);
    await writeRgbaPng(join(dir, 'small.png'), render(20, 16, 1, 2));
    await writeFile(join(dir, 'not-an-image.png'), 'this is text, not a PNG\n');
    await writeViewSet(join(dir, 'truth'), { 'frame_000.png': a, 'frame_001.png': b });
    await writeViewSet(join(dir, 'render'), { 'frame_000.png': b, 'frame_001.png': b });
    await writeViewSet(join(dir, 'partial'), { 'frame_000.png': b, 'frame_002.png': b });
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('reports the in-process metrics for two images as JSON', async () => {
    const result = await head3d('--json', 'compare', join(dir, 'a.png'), join(dir, 'b.png'));
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const json = JSON.parse(result.stdout);

    // Read back through the PNG files so the in-process numbers see exactly what the CLI saw.
    const [fileA, fileB] = await Promise.all([readImage(join(dir, 'a.png')), readImage(join(dir, 'b.png'))]);
    const mask = alphaUnionMask(fileA, fileB);
    expect(json).toMatchObject({ kind: 'images', background: 'black', width: 40, height: 32 });
    expect(json.psnr).toBeCloseTo(psnr(fileA, fileB), 10);
    expect(json.ssim).toBeCloseTo(ssim(fileA, fileB), 10);
    expect(json.maskedPsnr).toBeCloseTo(psnr(fileA, fileB, { mask }), 10);
    expect(json.maskedSsim).toBeCloseTo(ssim(fileA, fileB, { mask }), 10);
    expect(json.maskCoverage).toBeCloseTo((23 * 24) / (40 * 32), 12);
    expect(json.psnr).toBeGreaterThan(5);
    expect(json.ssim).toBeLessThan(0.99);
  });

  it('composites on white with --background white', async () => {
    const result = await head3d('--json', 'compare', '--background', 'white', join(dir, 'a.png'), join(dir, 'b.png'));
    expect(result.code).toBe(0);
    const json = JSON.parse(result.stdout);
    const expected = compareImages(a, b, WHITE);
    expect(json.background).toBe('white');
    expect(json.psnr).toBeCloseTo(expected.psnr, 10);
    expect(json.maskedSsim).toBeCloseTo(expected.maskedSsim, 10);
  });

  it('writes identical images as PSNR null in JSON and "inf" for people', async () => {
    const json = JSON.parse((await head3d('--json', 'compare', join(dir, 'a.png'), join(dir, 'a.png'))).stdout);
    expect(json.psnr).toBeNull();
    expect(json.maskedPsnr).toBeNull();
    expect(json.ssim).toBe(1);
    const human = await head3d('compare', join(dir, 'a.png'), join(dir, 'a.png'));
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/PSNR inf dB\s+SSIM 1\.0000/);
  });

  it('compares view sets frame by frame, with means', async () => {
    const result = await head3d('--json', 'compare', join(dir, 'truth'), join(dir, 'render', 'transforms.json'));
    expect(result.code).toBe(0);
    const json = JSON.parse(result.stdout);
    const first = compareImages(a, b);
    expect(json.kind).toBe('views');
    expect(json.views.map((v: { filePath: string }) => v.filePath)).toEqual(['frame_000.png', 'frame_001.png']);
    expect(json.views[0].psnr).toBeCloseTo(first.psnr, 10);
    expect(json.views[0].ssim).toBeCloseTo(first.ssim, 10);
    expect(json.views[0].maskedPsnr).toBeCloseTo(first.maskedPsnr, 10);
    expect(json.views[0].maskedSsim).toBeCloseTo(first.maskedSsim, 10);
    expect(json.views[1].psnr).toBeNull(); // identical frames
    expect(json.mean.ssim).toBeCloseTo((first.ssim + 1) / 2, 10);
    expect(json.mean.maskedSsim).toBeCloseTo((first.maskedSsim + 1) / 2, 10);

    const human = await head3d('compare', join(dir, 'truth'), join(dir, 'render'));
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^frame_000\.png\s+\d+\.\d\d\s+0\.\d{4}\s+\d+\.\d\d\s+0\.\d{4}\s+\d+%$/m);
    expect(human.stdout).toMatch(/^mean\s+inf\s+0\.\d{4}/m);
  });

  it('lists the frames one view set lacks', async () => {
    expectUserError(await head3d('compare', join(dir, 'truth'), join(dir, 'partial')), /lacks frame_001\.png.*lacks frame_002\.png/);
  });

  it('fails with one line for a missing file', async () => {
    expectUserError(await head3d('compare', join(dir, 'a.png'), join(dir, 'missing.png')), /not found: .*missing\.png/);
  });

  it('fails with one line for a file that is not an image', async () => {
    expectUserError(await head3d('compare', join(dir, 'not-an-image.png'), join(dir, 'a.png')), /not-an-image\.png is not an image/);
  });

  it('fails with one line for images of different sizes, naming both', async () => {
    expectUserError(await head3d('compare', join(dir, 'a.png'), join(dir, 'small.png')), /40×32.*20×16/);
  });

  it('refuses to compare an image with a view set', async () => {
    expectUserError(await head3d('compare', join(dir, 'a.png'), join(dir, 'truth')), /an image with a view set/);
  });
});
