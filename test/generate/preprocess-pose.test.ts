import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RgbaImage } from '../../src/core/image.js';
import { loadTexturedMesh } from '../../src/eval/load-mesh.js';
import { type TexturedMesh, transformMesh } from '../../src/eval/mesh.js';
import { normalizeHead } from '../../src/eval/normalize-head.js';
import { type FaceModels, loadFaceModels } from '../../src/generate/preprocess/face-models.js';
import { preprocessImage } from '../../src/generate/preprocess/preprocess.js';
import { SHARED_DATA } from '../helpers/cli.js';
import { loadLeePerrySmith, scanPortrait } from '../helpers/scan-portrait.js';

// Truth: the Lee Perry-Smith scan in PanoHead's world, photographed by a camera on orbitPose(yaw,
// pitch) with a portrait lens over a studio backdrop (scanPortrait). The estimate is the yaw and
// pitch of the PanoHead camera that preprocess derives.
const VIEWS: [number, number][] = [[0, 0], [15, 0], [-15, 0], [30, 0], [-30, 0], [0, 10], [0, -10]];

/**
 * An untextured scan made to look photographed: each vertex's Lambert brightness under a light from
 * the front, above and to the subject's left (fixed to the head, as in a studio) becomes its u
 * coordinate into a plaster-coloured ramp, so the rasterizer draws it Gouraud-shaded.
 */
function plasterShaded(mesh: TexturedMesh): TexturedMesh {
  const ramp: RgbaImage = { width: 256, height: 1, data: new Uint8Array(256 * 4) };
  for (let i = 0; i < 256; i++) ramp.data.set([Math.round(i * 0.93), Math.round(i * 0.85), Math.round(i * 0.75), 255], i * 4);
  const length = Math.hypot(0.35, 0.45, 0.82);
  const light = [0.35 / length, 0.45 / length, 0.82 / length];
  return {
    parts: mesh.parts.map((part) => {
      const p = part.positions, index = part.indices;
      const normals = new Float32Array(p.length);
      for (let t = 0; t < index.length; t += 3) {
        const [a, b, c] = [index[t] * 3, index[t + 1] * 3, index[t + 2] * 3];
        const e1 = [p[b] - p[a], p[b + 1] - p[a + 1], p[b + 2] - p[a + 2]];
        const e2 = [p[c] - p[a], p[c + 1] - p[a + 1], p[c + 2] - p[a + 2]];
        const n = [e1[1] * e2[2] - e1[2] * e2[1], e1[2] * e2[0] - e1[0] * e2[2], e1[0] * e2[1] - e1[1] * e2[0]];
        for (const v of [a, b, c]) for (let k = 0; k < 3; k++) normals[v + k] += n[k]; // area-weighted
      }
      const uvs = new Float32Array((p.length / 3) * 2);
      for (let v = 0; v < p.length / 3; v++) {
        const n = [normals[v * 3], normals[v * 3 + 1], normals[v * 3 + 2]];
        const lambert = Math.max(0, (n[0] * light[0] + n[1] * light[1] + n[2] * light[2]) / (Math.hypot(...n) || 1));
        uvs[v * 2] = Math.min(0.999, 0.25 + 0.7 * lambert);
        uvs[v * 2 + 1] = 0.5;
      }
      return { ...part, uvs, texture: ramp };
    }),
  };
}

describe('head pose on rendered portraits of a real head scan', () => {
  let models: FaceModels;
  let mesh: TexturedMesh;
  beforeAll(async () => {
    models = await loadFaceModels();
    mesh = await loadLeePerrySmith();
  });
  afterAll(() => models?.dispose());

  it.each(VIEWS)('yaw %i°, pitch %i°: estimate within 5°', async (yaw, pitch) => {
    await expectPose(models, scanPortrait(mesh, yaw, pitch).image, yaw, pitch, 'pose');
  });
});

// Out of sample: the pose template (face-template.ts) is built from the Lee Perry-Smith scan, so
// the test above is partly in-sample. The Nefertiti bust (public-domain scan, no texture, shaded
// as plaster) is a head the template has never seen. Its yaw and pitch errors, measured
// 2026-11-25: (0,0) −1.1/+3.2, (15,0) +0.9/+1.8, (−15,0) −0.4/+3.2, (30,0) +4.5/−4.0,
// (−30,0) −2.9/−2.2, (0,10) −1.0/+1.3, (0,−10) −0.7/+3.8. The Demosthenes bust misses 5° and is
// not tested: his head is bowed within the bust (pitch +20° when the bust is level) and turned
// views give yaw errors up to +10° (bearded, eyes without pupils, shading only).
describe('head pose on rendered portraits of an unseen head scan (Nefertiti)', () => {
  let models: FaceModels;
  let mesh: TexturedMesh;
  beforeAll(async () => {
    models = await loadFaceModels();
    mesh = await loadTexturedMesh(join(SHARED_DATA, 'nefertiti', 'nefertiti-lowres.obj'), { allowUntextured: true });
    mesh = plasterShaded(transformMesh(mesh, normalizeHead(mesh).matrix));
  });
  afterAll(() => models?.dispose());

  it.each(VIEWS)('yaw %i°, pitch %i°: estimate within 5°', async (yaw, pitch) => {
    await expectPose(models, scanPortrait(mesh, yaw, pitch).image, yaw, pitch, 'nefertiti');
  });
});

/** Preprocesses a rendered portrait and checks the camera's yaw, pitch and roll against the truth (within 5°). */
async function expectPose(models: FaceModels, image: RgbaImage, yaw: number, pitch: number, label: string): Promise<void> {
  const result = await preprocessImage(image, models);
  const { yawDeg, pitchDeg, rollDeg } = result.angles;
  console.log(`${label} yaw ${yaw} pitch ${pitch}: estimated yaw ${yawDeg.toFixed(2)} pitch ${pitchDeg.toFixed(2)} roll ${rollDeg.toFixed(2)}`);
  expect(result.facesFound).toBe(1);
  expect(Math.abs(yawDeg - yaw)).toBeLessThan(5);
  expect(Math.abs(pitchDeg - pitch)).toBeLessThan(5);
  expect(Math.abs(rollDeg)).toBeLessThan(5);
  // The camera sits on PanoHead's sphere and looks at the head centre.
  const c = result.camera.cam2world;
  expect(Math.hypot(c[3], c[7], c[11])).toBeCloseTo(2.7, 6);
  const forward = [c[2], c[6], c[10]];
  expect(forward[0] * c[3] + forward[1] * c[7] + forward[2] * c[11]).toBeCloseTo(-2.7, 6);
}
