import { describe, expect, it } from 'vitest';
import { type Camera, panoheadOrbit } from '../../src/core/camera.js';
import { createImage } from '../../src/core/image.js';
import { VisualHull, hullField } from '../../src/export/visual-hull.js';
import { ellipsoidDistance, fieldFromDistance } from './analytic-fields.js';

const RADIUS = 0.2;

/** A view of a sphere of RADIUS at the origin: alpha 255 where the pixel's ray passes through it. */
function sphereView(camera: Camera) {
  const { fx, fy, cx, cy, width, height } = camera.intrinsics;
  const m = camera.cam2world;
  const eye = [m[3], m[7], m[11]];
  const image = createImage(width, height);
  for (let v = 0; v < height; v++) {
    for (let u = 0; u < width; u++) {
      const c = [(u + 0.5 - cx) / fx, (v + 0.5 - cy) / fy, 1];
      const d = [0, 1, 2].map((r) => m[r * 4] * c[0] + m[r * 4 + 1] * c[1] + m[r * 4 + 2] * c[2]);
      const length = Math.hypot(d[0], d[1], d[2]);
      // Distance from the origin to the ray: |eye × d| / |d|.
      const cross = Math.hypot(eye[1] * d[2] - eye[2] * d[1], eye[2] * d[0] - eye[0] * d[2], eye[0] * d[1] - eye[1] * d[0]);
      image.data[(v * width + u) * 4 + 3] = cross / length < RADIUS ? 255 : 0;
    }
  }
  return { image, camera };
}

describe('visual hull', () => {
  const hull = new VisualHull(panoheadOrbit({ frames: 8, size: 64 }).map(sphereView));

  it('holds the sphere, not the space around it, nor what no view sees', () => {
    expect(hull.viewCount).toBe(8);
    expect(hull.contains(0, 0, 0)).toBe(true);
    expect(hull.contains(0, 0.17, 0)).toBe(true);
    expect(hull.contains(0.12, -0.1, -0.1)).toBe(true);
    expect(hull.contains(0.3, 0, 0)).toBe(false);
    expect(hull.contains(0.25, 0, -0.25)).toBe(false); // behind and beside: background in a diagonal view
    expect(hull.contains(0, 0.45, 0)).toBe(false); // above every frame: no view supports it
    expect(hull.contains(0, -0.45, 0)).toBe(false);
  });

  it('zeroes the density of a field outside it and keeps it inside', () => {
    const sphere = { centre: [0, 0, 0] as [number, number, number], radii: [RADIUS, RADIUS, RADIUS] as [number, number, number] };
    const floater = { centre: [0, 0.45, 0] as [number, number, number], radii: [0.04, 0.04, 0.04] as [number, number, number] };
    const field = fieldFromDistance((x, y, z) => Math.min(ellipsoidDistance(sphere, x, y, z), ellipsoidDistance(floater, x, y, z)));
    const hulled = hullField(field, hull);
    const points = new Float32Array([0, 0, 0, 0, 0.45, 0, 0.1, 0.05, 0]);
    const raw = new Float32Array(3), masked = new Float32Array(3);
    field.density(points, 3, raw);
    hulled.density(points, 3, masked);
    expect(raw[1]).toBeGreaterThan(25);
    expect(masked[1]).toBe(0);
    expect(masked[0]).toBe(raw[0]);
    expect(masked[2]).toBe(raw[2]);
    expect(hulled.occupied!(0, 0.45, 0)).toBe(false);
    expect(hulled.occupied!(0, 0, 0)).toBe(true);
  });
});
