import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Camera, orbitPose } from '../../src/core/camera.js';
import type { RgbaImage } from '../../src/core/image.js';
import { loadTexturedMesh } from '../../src/eval/load-mesh.js';
import { type TexturedMesh, transformMesh } from '../../src/eval/mesh.js';
import { normalizeHead } from '../../src/eval/normalize-head.js';
import { rasterize } from '../../src/eval/rasterizer.js';
import { type FaceModels, loadFaceModels } from '../../src/generate/preprocess/face-models.js';
import { preprocessImage } from '../../src/generate/preprocess/preprocess.js';
import { SHARED_DATA } from '../helpers/cli.js';

// Truth: the Lee Perry-Smith scan in PanoHead's world, photographed by a camera on orbitPose(yaw,
// pitch) — yaw > 0 moves the camera toward the subject's left (+X), pitch > 0 lifts it above the
// head. A portrait lens: 640×800 frame, focal 4.2647 widths at distance 6 (the head fills ~40 % of
// the width). The estimate is the yaw and pitch of the PanoHead camera that preprocess derives.
const VIEWS: [number, number][] = [[0, 0], [15, 0], [-15, 0], [30, 0], [-30, 0], [0, 10], [0, -10]];

function portrait(mesh: TexturedMesh, yawDeg: number, pitchDeg: number): RgbaImage {
  const width = 640, height = 800, focal = 4.2647 * width;
  const camera: Camera = {
    intrinsics: { fx: focal, fy: focal, cx: width / 2, cy: height / 2, width, height },
    cam2world: orbitPose((yawDeg * Math.PI) / 180, (pitchDeg * Math.PI) / 180, 6),
  };
  const image = rasterize(mesh, camera, { supersample: 2 });
  // Over a blue-grey vertical gradient, like a studio backdrop.
  for (let i = 0; i < image.data.length; i += 4) {
    const a = image.data[i + 3] / 255;
    const shade = 40 * (Math.floor(i / 4 / width) / height);
    [70, 110, 160].forEach((bg, c) => (image.data[i + c] = Math.round(image.data[i + c] * a + (bg + shade) * (1 - a))));
    image.data[i + 3] = 255;
  }
  return image;
}

describe('head pose on rendered portraits of a real head scan', () => {
  let models: FaceModels;
  let mesh: TexturedMesh;
  beforeAll(async () => {
    models = await loadFaceModels({ matteModel: 'selfie' });
    const data = join(SHARED_DATA, 'leeperrysmith');
    mesh = await loadTexturedMesh(join(data, 'LeePerrySmith.glb'), { texture: join(data, 'Map-COL.jpg'), flipV: true });
    mesh = transformMesh(mesh, normalizeHead(mesh).matrix);
  });
  afterAll(() => models?.dispose());

  it.each(VIEWS)('yaw %i°, pitch %i°: estimate within 5°', async (yaw, pitch) => {
    const result = await preprocessImage(portrait(mesh, yaw, pitch), models);
    const { yawDeg, pitchDeg, rollDeg } = result.angles;
    console.log(`pose yaw ${yaw} pitch ${pitch}: estimated yaw ${yawDeg.toFixed(2)} pitch ${pitchDeg.toFixed(2)} roll ${rollDeg.toFixed(2)}`);
    expect(result.facesFound).toBe(1);
    expect(Math.abs(yawDeg - yaw)).toBeLessThan(5);
    expect(Math.abs(pitchDeg - pitch)).toBeLessThan(5);
    expect(Math.abs(rollDeg)).toBeLessThan(5);
    // The camera sits on PanoHead's sphere and looks at the head centre.
    const c = result.camera.cam2world;
    expect(Math.hypot(c[3], c[7], c[11])).toBeCloseTo(2.7, 6);
    const forward = [c[2], c[6], c[10]];
    expect(forward[0] * c[3] + forward[1] * c[7] + forward[2] * c[11]).toBeCloseTo(-2.7, 6);
  });
});
