/**
 * Synthetic camera-hint images for bundles made without the released `sphere32` images (random
 * bundles for tests and benchmarks): a simple stylised head — skin-coloured face with eyes, nose,
 * mouth and ears, hair over the crown and back, a neck and a dark jacket — rendered with the
 * software rasterizer on PanoHead's 32-view orbit over a plain brown background, as the released
 * hints show one fixed head in a suit. These are NOT the released hints; bundles record that.
 */
import { panoheadOrbit, PANOHEAD_ORBIT_FRAMES } from '../../core/camera.js';
import { createImage, type RgbaImage } from '../../core/image.js';
import type { Vec3 } from '../../core/mat4.js';
import type { MeshPart, TexturedMesh } from '../../eval/mesh.js';
import { rasterize } from '../../eval/rasterizer.js';

export const SYNTHETIC_HINTS_DESCRIPTION =
  'synthetic: a stylised head (ellipsoids, baked light) rendered with head3d\'s rasterizer on PanoHead\'s 32-view orbit; not the released sphere32 images';

export interface SyntheticHintOptions {
  /** Image side in pixels (the bundle's imageSize). */
  size: number;
  /** Rasterizer supersampling per axis (default 2). */
  supersample?: number;
}

type Rgb = [number, number, number];
const SKIN: Rgb = [224, 172, 140];
const HAIR: Rgb = [60, 40, 30];
const EYE: Rgb = [30, 30, 35];
const LIPS: Rgb = [170, 80, 80];
const JACKET: Rgb = [40, 45, 60];
const BACKGROUND: Rgb = [120, 86, 62];
const LIGHT: Vec3 = (() => {
  const v: Vec3 = [0.4, 0.6, 0.7];
  const n = Math.hypot(...v);
  return [v[0] / n, v[1] / n, v[2] / n];
})();

/** A UV-sphere ellipsoid whose texture is painted per (longitude, latitude) with baked Lambert light. */
function ellipsoid(centre: Vec3, radii: Vec3, paint: (lon: number, lat: number) => Rgb, textureSize = 64, segments = 48): MeshPart {
  const rings = segments / 2;
  const positions: number[] = [];
  const uvs: number[] = [];
  for (let r = 0; r <= rings; r++) {
    const lat = Math.PI / 2 - (Math.PI * r) / rings;
    for (let s = 0; s <= segments; s++) {
      const lon = -Math.PI + (2 * Math.PI * s) / segments;
      // lon 0 faces +Z (the face), lon +π/2 faces +X.
      positions.push(centre[0] + radii[0] * Math.cos(lat) * Math.sin(lon), centre[1] + radii[1] * Math.sin(lat), centre[2] + radii[2] * Math.cos(lat) * Math.cos(lon));
      uvs.push(s / segments, r / rings);
    }
  }
  const indices: number[] = [];
  for (let r = 0; r < rings; r++) {
    for (let s = 0; s < segments; s++) {
      const a = r * (segments + 1) + s;
      const b = a + segments + 1;
      indices.push(a, b, a + 1, a + 1, b, b + 1);
    }
  }
  const texture = createImage(textureSize, textureSize);
  for (let y = 0; y < textureSize; y++) {
    const lat = Math.PI / 2 - (Math.PI * (y + 0.5)) / textureSize;
    for (let x = 0; x < textureSize; x++) {
      const lon = -Math.PI + (2 * Math.PI * (x + 0.5)) / textureSize;
      // The ellipsoid's normal ∝ (p − c) / r².
      const n: Vec3 = [(Math.cos(lat) * Math.sin(lon)) / radii[0], Math.sin(lat) / radii[1], (Math.cos(lat) * Math.cos(lon)) / radii[2]];
      const length = Math.hypot(...n);
      const shade = 0.45 + 0.55 * Math.max(0, (n[0] * LIGHT[0] + n[1] * LIGHT[1] + n[2] * LIGHT[2]) / length);
      const colour = paint(lon, lat);
      const i = (y * textureSize + x) * 4;
      for (let c = 0; c < 3; c++) texture.data[i + c] = Math.min(255, Math.round(colour[c]! * shade));
      texture.data[i + 3] = 255;
    }
  }
  return { positions: new Float32Array(positions), uvs: new Float32Array(uvs), indices: new Uint32Array(indices), texture };
}

function paintHead(lon: number, lat: number): Rgb {
  // Hair: the crown, and the back half below it down to the nape.
  if (lat > 0.55 || (Math.abs(lon) > 1.75 && lat > -0.55) || (Math.abs(lon) > 1.35 && lat > 0.2)) return HAIR;
  for (const side of [-1, 1]) if (Math.hypot(lon - side * 0.38, (lat - 0.18) * 1.6) < 0.1) return EYE;
  if (Math.abs(lon) < 0.32 && Math.abs(lat + 0.42) < 0.05) return LIPS;
  return SKIN;
}

/** The stylised head in PanoHead's world (centre at the origin, +Y up, face toward +Z, ~0.55 crown to neck). */
export function syntheticHead(): TexturedMesh {
  const skin = (): Rgb => SKIN;
  return {
    parts: [
      ellipsoid([0, 0.04, 0], [0.19, 0.24, 0.21], paintHead, 128, 64),
      ellipsoid([0, -0.03, 0.2], [0.022, 0.04, 0.04], skin, 8, 16),
      ellipsoid([0.19, 0.02, -0.01], [0.03, 0.06, 0.04], skin, 8, 16),
      ellipsoid([-0.19, 0.02, -0.01], [0.03, 0.06, 0.04], skin, 8, 16),
      ellipsoid([0, -0.25, -0.01], [0.085, 0.14, 0.085], skin, 16, 24),
      ellipsoid([0, -0.46, -0.02], [0.42, 0.16, 0.22], () => JACKET, 16, 32),
    ],
  };
}

/**
 * The 32 hint images, frame k at yaw 2πk/32 (frame 0 frontal, frame 8 the subject's left side),
 * opaque RGB over a brown background.
 */
export function renderSyntheticHints(options: SyntheticHintOptions): RgbaImage[] {
  const mesh = syntheticHead();
  return panoheadOrbit({ frames: PANOHEAD_ORBIT_FRAMES, size: options.size }).map((camera) => {
    const image = rasterize(mesh, camera, { supersample: options.supersample ?? 2 });
    const d = image.data;
    for (let i = 0; i < d.length; i += 4) {
      const a = d[i + 3]! / 255;
      for (let c = 0; c < 3; c++) d[i + c] = Math.round(d[i + c]! * a + BACKGROUND[c]! * (1 - a));
      d[i + 3] = 255;
    }
    return image;
  });
}
