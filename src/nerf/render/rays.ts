import type { Camera } from '../../core/camera.js';

/**
 * A camera flattened for ray generation in hot loops: world2cam is not needed, only the rotation
 * columns, the centre and the intrinsics. 17 numbers per camera in a Float64Array.
 */
export const CAMERA_STRIDE = 17;

export function packCamera(camera: Camera, out: Float64Array, offset: number): void {
  const m = camera.cam2world;
  const k = camera.intrinsics;
  out.set([m[0], m[1], m[2], m[4], m[5], m[6], m[8], m[9], m[10], m[3], m[7], m[11], k.fx, k.fy, k.cx, k.cy, k.width], offset);
}

/**
 * World-space ray through pixel position (px, py) (pixel centres at +0.5) of a packed camera:
 * origin in out[0..2], unit direction in out[3..5].
 */
export function pixelRay(cameras: Float64Array, c: number, px: number, py: number, out: Float64Array | Float32Array): void {
  const o = c * CAMERA_STRIDE;
  const x = (px - cameras[o + 14]) / cameras[o + 12];
  const y = (py - cameras[o + 15]) / cameras[o + 13];
  // Direction in camera axes is (x, y, 1) (OpenCV: +z forward); rotate into the world.
  let dx = cameras[o] * x + cameras[o + 1] * y + cameras[o + 2];
  let dy = cameras[o + 3] * x + cameras[o + 4] * y + cameras[o + 5];
  let dz = cameras[o + 6] * x + cameras[o + 7] * y + cameras[o + 8];
  const inv = 1 / Math.sqrt(dx * dx + dy * dy + dz * dz);
  dx *= inv;
  dy *= inv;
  dz *= inv;
  out[0] = cameras[o + 9];
  out[1] = cameras[o + 10];
  out[2] = cameras[o + 11];
  out[3] = dx;
  out[4] = dy;
  out[5] = dz;
}

/**
 * Slab test of a ray against an axis-aligned box: entry and exit distances in out[0..1]
 * (entry clamped at 0). Returns false when the ray misses.
 */
export function intersectBox(
  ox: number, oy: number, oz: number, dx: number, dy: number, dz: number,
  min: ArrayLike<number>, max: ArrayLike<number>, out: Float64Array,
): boolean {
  let near = 0;
  let far = Infinity;
  const origin = [ox, oy, oz];
  const direction = [dx, dy, dz];
  for (let k = 0; k < 3; k++) {
    const inv = 1 / direction[k];
    let t0 = (min[k] - origin[k]) * inv;
    let t1 = (max[k] - origin[k]) * inv;
    if (t0 > t1) [t0, t1] = [t1, t0];
    if (t0 > near) near = t0;
    if (t1 < far) far = t1;
    if (near > far) return false;
  }
  out[0] = near;
  out[1] = far;
  return true;
}
