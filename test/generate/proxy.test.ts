import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Camera } from '../../src/core/camera.js';
import type { RgbaImage } from '../../src/core/image.js';
import { readTransformsJson } from '../../src/core/transforms-json.js';
import { rasterize } from '../../src/eval/rasterizer.js';
import { loadFaceModels } from '../../src/generate/preprocess/face-models.js';
import { SILHOUETTE } from '../../src/generate/preprocess/landmarks.js';
import { preprocess } from '../../src/generate/preprocess/preprocess.js';
import { landmarksInCrop } from '../../src/generate/proxy/crop-landmarks.js';
import { polygonDistance } from '../../src/generate/proxy/face-surface.js';
import type { CropLandmark } from '../../src/generate/proxy/head-frame.js';
import { type HeadProxy, buildHeadProxy, generateProxyViews } from '../../src/generate/proxy/proxy-generator.js';

const PORTRAITS = resolve(__dirname, '../../../shared/data/portraits');

/** PSNR over the pixels inside the face oval (the landmark contour), and alpha IoU at 0.5. */
function scoreAgainstCrop(rendered: RgbaImage, crop: RgbaImage, landmarks: CropLandmark[]): { facePsnr: number; iou: number } {
  const oval = new Float64Array(SILHOUETTE.flatMap((i) => [landmarks[i][0], landmarks[i][1]]));
  let squared = 0, count = 0, both = 0, either = 0;
  for (let y = 0; y < crop.height; y++) {
    for (let x = 0; x < crop.width; x++) {
      const o = (y * crop.width + x) * 4;
      const a = crop.data[o + 3] >= 128, b = rendered.data[o + 3] >= 128;
      if (a && b) both++;
      if (a || b) either++;
      if (polygonDistance(oval, x + 0.5, y + 0.5) >= 0) continue;
      for (let c = 0; c < 3; c++) squared += (crop.data[o + c] - rendered.data[o + c]) ** 2;
      count += 3;
    }
  }
  return { facePsnr: 10 * Math.log10((255 * 255) / (squared / count)), iou: both / either };
}

describe('proxy generator', () => {
  const work = mkdtempSync(join(tmpdir(), 'head3d-proxy-'));
  let crop: RgbaImage;
  let camera: Camera;
  let landmarks: CropLandmark[];
  let proxy: HeadProxy;

  beforeAll(async () => {
    const models = await loadFaceModels();
    try {
      const result = await preprocess(join(PORTRAITS, 'astronaut.png'), work, models);
      crop = result.crop;
      camera = result.camera;
      landmarks = landmarksInCrop(result.face.landmarks, result.cropSquare, crop.width);
    } finally {
      models.dispose();
    }
    proxy = await buildHeadProxy({ crop, camera, landmarks });
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('reproduces the crop at the input camera: face PSNR ≥ 25 dB, alpha IoU with the matte ≥ 0.9', () => {
    const rendered = rasterize(proxy.mesh, camera);
    const { facePsnr, iou } = scoreAgainstCrop(rendered, crop, landmarks);
    console.log(`proxy at the input camera (astronaut): face PSNR ${facePsnr.toFixed(2)} dB, IoU ${iou.toFixed(4)}, ${proxy.triangles} triangles, ${proxy.seconds.toFixed(1)} s`);
    expect(facePsnr).toBeGreaterThanOrEqual(25);
    expect(iou).toBeGreaterThanOrEqual(0.9);
  });

  it('covers the head all round: every orbit view shows it, the back in the hair colour', () => {
    for (const yawFrame of [0, 8, 16, 24]) {
      const view = rasterize(proxy.mesh, { ...camera, cam2world: orbitCamera(yawFrame) }, { supersample: 1 });
      let covered = 0;
      for (let i = 3; i < view.data.length; i += 4) covered += view.data[i] >= 128 ? 1 : 0;
      expect(covered / (view.width * view.height), `frame ${yawFrame}`).toBeGreaterThan(0.2);
    }
    const back = rasterize(proxy.mesh, { ...camera, cam2world: orbitCamera(16) }, { supersample: 1 });
    const centre = (Math.round(back.height * 0.3) * back.width + Math.round(back.width / 2)) * 4;
    const hair = proxy.palette.hair.map((v) => v * 255);
    for (let c = 0; c < 3; c++) expect(Math.abs(back.data[centre + c] - hair[c])).toBeLessThan(12);
  });

  it('writes a 32-view orbit with transforms.json that the readers accept', async () => {
    const dir = join(work, 'views');
    const result = await generateProxyViews({ crop, camera, landmarks }, dir, { size: 64, holdout: 2, resolution: 64, triangles: 8000, supersample: 1 });
    expect(result.views).toBe(32);
    const viewSet = await readTransformsJson(result.transformsPath);
    expect(viewSet.frames).toHaveLength(32);
    expect(viewSet.frames[0].camera.intrinsics.width).toBe(64);
    expect((await readTransformsJson(result.holdoutTransformsPath!)).frames).toHaveLength(2);
  });
});

function orbitCamera(frame: number): number[] {
  const yaw = (2 * Math.PI * frame) / 32;
  const [s, c] = [Math.sin(yaw), Math.cos(yaw)];
  // PanoHead orbit, OpenCV axes: columns x = (cos, 0, −sin), y = (0, −1, 0), z = (−sin, 0, −cos).
  return [c, 0, -s, 2.7 * s, 0, -1, 0, 0, -s, 0, -c, 2.7 * c, 0, 0, 0, 1];
}
