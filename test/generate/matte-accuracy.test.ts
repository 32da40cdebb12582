import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RgbaImage, readImage, resizeImage } from '../../src/core/image.js';
import type { TexturedMesh } from '../../src/eval/mesh.js';
import { type FaceModels, loadFaceModels } from '../../src/generate/preprocess/face-models.js';
import { headPriorMatte } from '../../src/generate/preprocess/head-prior-matte.js';
import { sourceToCrop, warpCrop } from '../../src/generate/preprocess/crop.js';
import { upsampleMask } from '../../src/generate/preprocess/matte.js';
import { preprocessImage } from '../../src/generate/preprocess/preprocess.js';
import { SHARED_DATA } from '../helpers/cli.js';
import { loadLeePerrySmith, scanPortrait } from '../helpers/scan-portrait.js';

// Truth: the Lee Perry-Smith scan rendered with its exact coverage as alpha, composited over a
// backdrop, preprocessed as a portrait; the true alpha is cut with the same crop square. Two
// backdrops: a studio gradient, and a busy real texture (the blue brush strokes of the van Gogh
// self-portrait in ../shared/data/portraits, scaled up).
const VIEWS: [number, number][] = [[0, 0], [30, 0], [-30, 0]];

interface Scores { iou: number; edgeError: number }

/** IoU of alpha > ½ and the mean |alpha error| (0–1) within 4 px of the true outline. */
function score(alpha: ArrayLike<number>, truth: Uint8Array, size: number): Scores {
  let intersection = 0, union = 0, edge = 0, edgeCount = 0;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = y * size + x;
      const [a, t] = [alpha[i] / 255, truth[i] / 255];
      if (a > 0.5 && t > 0.5) intersection++;
      if (a > 0.5 || t > 0.5) union++;
      let nearEdge = false;
      for (let dy = -4; dy <= 4 && !nearEdge; dy += 4) {
        for (let dx = -4; dx <= 4 && !nearEdge; dx += 4) {
          const [u, v] = [Math.min(size - 1, Math.max(0, x + dx)), Math.min(size - 1, Math.max(0, y + dy))];
          nearEdge = (truth[v * size + u] > 127) !== (t > 0.5);
        }
      }
      if (nearEdge) {
        edge += Math.abs(a - t);
        edgeCount++;
      }
    }
  }
  return { iou: intersection / union, edgeError: edge / edgeCount };
}

describe('matte accuracy on rendered portraits of a real head scan (exact alpha known)', () => {
  let models: FaceModels;
  let mesh: TexturedMesh;
  let brushStrokes: RgbaImage;
  beforeAll(async () => {
    models = await loadFaceModels();
    mesh = await loadLeePerrySmith();
    const painting = await readImage(join(SHARED_DATA, 'portraits', 'painting_van_gogh_self_portrait.jpg'));
    // Its left third is background only: copy it out and stretch it over the frame.
    const third = Math.floor(painting.width / 3);
    const strip: RgbaImage = { width: third, height: painting.height, data: new Uint8Array(third * painting.height * 4) };
    for (let y = 0; y < painting.height; y++) strip.data.set(painting.data.subarray(y * painting.width * 4, (y * painting.width + third) * 4), y * third * 4);
    brushStrokes = await resizeImage(strip, 640, 800);
  });
  afterAll(() => models?.dispose());

  const cases = VIEWS.flatMap(([yaw, pitch]) => (['studio', 'brush strokes'] as const).map((backdrop) => [yaw, pitch, backdrop] as const));
  it.each(cases)('yaw %i°, pitch %i°, %s backdrop: alpha matches the truth; the colour refinement sharpens the edge', async (yaw, pitch, backdrop) => {
    const { image, truth } = scanPortrait(mesh, yaw, pitch, backdrop === 'studio' ? undefined : brushStrokes);
    const result = await preprocessImage(image, models);
    expect(result.matteSource).toBe('segmentation');
    const size = result.crop.width;
    const truthCrop = warpCrop(truth, result.cropSquare, size).image;
    const trueAlpha = new Uint8Array(size * size).map((_, i) => truthCrop.data[i * 4]);
    const alpha = new Uint8Array(size * size).map((_, i) => result.crop.data[i * 4 + 3]);

    // The same model output without the refinement: its own mask, bilinearly resampled.
    const opaque = { ...result.crop, data: result.crop.data.map((v, i) => (i % 4 === 3 ? 255 : v)) };
    const coarse = upsampleMask(await models.segment(opaque), size, size).map((v) => Math.round(255 * Math.min(1, Math.max(0, v))));
    // And the fallback made for crops the model misses, from the face outline and colours alone.
    const fallback = headPriorMatte(opaque, result.face.landmarks.map(([x, y]) => sourceToCrop(result.cropSquare, [x, y], size)));

    const [refined, bilinear, headShape] = [score(alpha, trueAlpha, size), score(coarse, trueAlpha, size), score(fallback, trueAlpha, size)];
    console.log(`matte yaw ${yaw} pitch ${pitch} ${backdrop}: refined IoU ${refined.iou.toFixed(4)} edge ${refined.edgeError.toFixed(4)}; ` +
      `model mask bilinear IoU ${bilinear.iou.toFixed(4)} edge ${bilinear.edgeError.toFixed(4)}; head-shape fallback IoU ${headShape.iou.toFixed(4)} edge ${headShape.edgeError.toFixed(4)}`);
    expect(refined.iou).toBeGreaterThan(0.95);
    expect(refined.edgeError).toBeLessThan(bilinear.edgeError);
    expect(headShape.iou).toBeGreaterThan(0.97);
  });
});
