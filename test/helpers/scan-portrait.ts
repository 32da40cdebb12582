import { join } from 'node:path';
import { type Camera, orbitPose } from '../../src/core/camera.js';
import type { RgbaImage } from '../../src/core/image.js';
import { loadTexturedMesh } from '../../src/eval/load-mesh.js';
import { type TexturedMesh, transformMesh } from '../../src/eval/mesh.js';
import { normalizeHead } from '../../src/eval/normalize-head.js';
import { rasterize } from '../../src/eval/rasterizer.js';
import { SHARED_DATA } from './cli.js';

/** The Lee Perry-Smith scan, textured, in PanoHead's world (normalizeHead). */
export async function loadLeePerrySmith(): Promise<TexturedMesh> {
  const data = join(SHARED_DATA, 'leeperrysmith');
  const mesh = await loadTexturedMesh(join(data, 'LeePerrySmith.glb'), { texture: join(data, 'Map-COL.jpg'), flipV: true });
  return transformMesh(mesh, normalizeHead(mesh).matrix);
}

/**
 * A head scan "photographed" as a portrait: a camera on orbitPose(yaw, pitch) — yaw > 0 moves it
 * toward the subject's left (+X), pitch > 0 lifts it above the head — with a portrait lens (640×800
 * frame, focal 4.2647 widths at distance 6: the head fills ~40 % of the width), over `backdrop` or
 * a blue-grey studio gradient. `truth` holds the render's coverage (the exact alpha) in its colour
 * channels, opaque, so warping it never premultiplies.
 */
export function scanPortrait(mesh: TexturedMesh, yawDeg: number, pitchDeg: number, backdrop?: RgbaImage): { image: RgbaImage; truth: RgbaImage } {
  const width = 640, height = 800, focal = 4.2647 * width;
  const camera: Camera = {
    intrinsics: { fx: focal, fy: focal, cx: width / 2, cy: height / 2, width, height },
    cam2world: orbitPose((yawDeg * Math.PI) / 180, (pitchDeg * Math.PI) / 180, 6),
  };
  const image = rasterize(mesh, camera, { supersample: 2 });
  const truth: RgbaImage = { width, height, data: new Uint8Array(width * height * 4) };
  for (let i = 0; i < image.data.length; i += 4) {
    const coverage = image.data[i + 3];
    truth.data.set([coverage, coverage, coverage, 255], i);
    const a = coverage / 255;
    const shade = 40 * (Math.floor(i / 4 / width) / height);
    for (let c = 0; c < 3; c++) {
      const background = backdrop ? backdrop.data[i + c] : [70, 110, 160][c] + shade;
      image.data[i + c] = Math.round(image.data[i + c] * a + background * (1 - a));
    }
    image.data[i + 3] = 255;
  }
  return { image, truth };
}
