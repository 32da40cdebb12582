import { CAMERA_STRIDE } from './rays.js';
import { type OccupancyGrid, cellPoint } from './occupancy.js';

/** One view's silhouette: alpha (0–255) of a `width`×`height` image and its packed camera. */
export interface Silhouette {
  alpha: Uint8Array;
  width: number;
  height: number;
  cameras: Float64Array;
  cameraIndex: number;
}

/**
 * Visual-hull carving: a cell whose projection lands on empty background in any view cannot
 * hold anything visible, so it is marked carved (and unoccupied). Masks are dilated by the
 * largest projected cell radius first, which keeps the test conservative for cells that straddle
 * the silhouette. Returns the number of cells carved.
 */
export function carveFromSilhouettes(grid: OccupancyGrid, silhouettes: Silhouette[]): number {
  const g = grid.resolution;
  const cellDiagonal = Math.hypot(...[0, 1, 2].map((k) => (grid.boundsMax[k] - grid.boundsMin[k]) / g));
  const centre = new Float64Array(3);
  for (const view of silhouettes) {
    const o = view.cameraIndex * CAMERA_STRIDE;
    const c = view.cameras;
    const [ox, oy, oz] = [c[o + 9], c[o + 10], c[o + 11]];
    const nearest = nearestDepth(grid, ox, oy, oz);
    if (nearest <= 0) continue; // camera inside the bounds: no safe bound on the footprint
    const radius = Math.ceil(((cellDiagonal / 2) * Math.max(c[o + 12], c[o + 13])) / nearest) + 1;
    const covered = dilate(view.alpha, view.width, view.height, radius);
    for (let i = 0; i < g * g * g; i++) {
      if (grid.carved[i]) continue;
      cellPoint(grid, i, 0.5, 0.5, 0.5, centre);
      const x = centre[0] - ox, y = centre[1] - oy, z = centre[2] - oz;
      // World → camera with the transposed rotation (columns of cam2world are the camera axes).
      const cx = c[o] * x + c[o + 3] * y + c[o + 6] * z;
      const cy = c[o + 1] * x + c[o + 4] * y + c[o + 7] * z;
      const cz = c[o + 2] * x + c[o + 5] * y + c[o + 8] * z;
      if (cz <= 0) continue;
      const px = Math.floor((c[o + 12] * cx) / cz + c[o + 14]);
      const py = Math.floor((c[o + 13] * cy) / cz + c[o + 15]);
      if (px < 0 || py < 0 || px >= view.width || py >= view.height) continue;
      if (!covered[py * view.width + px]) grid.carved[i] = 1;
    }
  }
  let carved = 0;
  for (let i = 0; i < grid.carved.length; i++) {
    if (grid.carved[i]) {
      grid.occupied[i] = 0;
      carved++;
    }
  }
  return carved;
}

function nearestDepth(grid: OccupancyGrid, x: number, y: number, z: number): number {
  // Distance from the camera to the closest point of the bounds.
  const p = [x, y, z];
  let squared = 0;
  for (let k = 0; k < 3; k++) {
    const d = p[k] < grid.boundsMin[k] ? grid.boundsMin[k] - p[k] : p[k] > grid.boundsMax[k] ? p[k] - grid.boundsMax[k] : 0;
    squared += d * d;
  }
  return Math.sqrt(squared);
}

/** Square max-filter of (alpha > 0) with the given radius, separable (rows, then columns). */
function dilate(alpha: Uint8Array, width: number, height: number, radius: number): Uint8Array {
  const rows = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    // Two sweeps spread each covered pixel `radius` to both sides.
    let last = -Infinity;
    for (let x = 0; x < width; x++) {
      if (alpha[y * width + x]) last = x;
      if (x - last <= radius) rows[y * width + x] = 1;
    }
    last = Infinity;
    for (let x = width - 1; x >= 0; x--) {
      if (alpha[y * width + x]) last = x;
      if (last - x <= radius) rows[y * width + x] = 1;
    }
  }
  const out = new Uint8Array(width * height);
  for (let x = 0; x < width; x++) {
    let last = -Infinity;
    for (let y = 0; y < height; y++) {
      if (rows[y * width + x]) last = y;
      if (y - last <= radius) out[y * width + x] = 1;
    }
    last = Infinity;
    for (let y = height - 1; y >= 0; y--) {
      if (rows[y * width + x]) last = y;
      if (last - y <= radius) out[y * width + x] = 1;
    }
  }
  return out;
}
