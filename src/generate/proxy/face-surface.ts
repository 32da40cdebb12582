import { SILHOUETTE } from '../preprocess/landmarks.js';

/**
 * The front of the face as a height field z = F(x, y) over head-local x, y, interpolated from the
 * lifted landmarks with Gaussian weights on a regular grid, and the face oval (the contour
 * landmarks) as a polygon for the face's outline.
 */
export interface FaceSurface {
  /** Grid origin, spacing and size in head-local units. */
  x0: number;
  y0: number;
  step: number;
  nx: number;
  ny: number;
  depth: Float32Array;
  /** Face-oval polygon, xy pairs. */
  oval: Float64Array;
}

export const FACE_SURFACE_DEFAULTS = { step: 0.004, sigma: 0.012, margin: 0.08 };

/** Builds the face height field from head-local landmark positions (x, y, z per landmark). */
export function buildFaceSurface(face: Float32Array, options: Partial<typeof FACE_SURFACE_DEFAULTS> = {}): FaceSurface {
  const { step, sigma, margin } = { ...FACE_SURFACE_DEFAULTS, ...options };
  const count = face.length / 3;
  let minX = Infinity, maxX = -Infinity, minY = Infinity, maxY = -Infinity;
  for (let i = 0; i < count; i++) {
    minX = Math.min(minX, face[i * 3]);
    maxX = Math.max(maxX, face[i * 3]);
    minY = Math.min(minY, face[i * 3 + 1]);
    maxY = Math.max(maxY, face[i * 3 + 1]);
  }
  const x0 = minX - margin, y0 = minY - margin;
  const nx = Math.ceil((maxX - minX + 2 * margin) / step) + 1;
  const ny = Math.ceil((maxY - minY + 2 * margin) / step) + 1;
  const sum = new Float64Array(nx * ny);
  const weight = new Float64Array(nx * ny);
  const reach = Math.ceil((3 * sigma) / step);
  const inv = 1 / (2 * sigma * sigma);
  // Splat each landmark; far from every landmark fall back to a wide kernel so the field stays defined.
  const splat = (kernelReach: number, kernelInv: number, target: Float64Array, targetWeight: Float64Array): void => {
    for (let i = 0; i < count; i++) {
      const px = face[i * 3], py = face[i * 3 + 1], pz = face[i * 3 + 2];
      const ci = Math.round((px - x0) / step), cj = Math.round((py - y0) / step);
      for (let j = Math.max(0, cj - kernelReach); j <= Math.min(ny - 1, cj + kernelReach); j++) {
        for (let k = Math.max(0, ci - kernelReach); k <= Math.min(nx - 1, ci + kernelReach); k++) {
          const dx = x0 + k * step - px, dy = y0 + j * step - py;
          const w = Math.exp(-(dx * dx + dy * dy) * kernelInv);
          target[j * nx + k] += w * pz;
          targetWeight[j * nx + k] += w;
        }
      }
    }
  };
  splat(reach, inv, sum, weight);
  const wideSigma = 4 * sigma;
  const wideSum = new Float64Array(nx * ny), wideWeight = new Float64Array(nx * ny);
  splat(Math.ceil((3 * wideSigma) / step), 1 / (2 * wideSigma * wideSigma), wideSum, wideWeight);
  const depth = new Float32Array(nx * ny);
  let fallback = 0;
  for (let i = 0; i < count; i++) fallback += face[i * 3 + 2] / count;
  for (let i = 0; i < depth.length; i++) {
    const blend = Math.min(1, weight[i] / 0.3);
    const wide = wideWeight[i] > 1e-9 ? wideSum[i] / wideWeight[i] : fallback;
    depth[i] = weight[i] > 1e-12 ? blend * (sum[i] / weight[i]) + (1 - blend) * wide : wide;
  }
  const oval = new Float64Array(SILHOUETTE.length * 2);
  SILHOUETTE.forEach((index, k) => {
    oval[k * 2] = face[index * 3];
    oval[k * 2 + 1] = face[index * 3 + 1];
  });
  return { x0, y0, step, nx, ny, depth, oval };
}

/** F(x, y), bilinear, clamped at the grid's edge. */
export function faceDepth(surface: FaceSurface, x: number, y: number): number {
  const { x0, y0, step, nx, ny, depth } = surface;
  const fx = Math.min(nx - 1.001, Math.max(0, (x - x0) / step));
  const fy = Math.min(ny - 1.001, Math.max(0, (y - y0) / step));
  const i = Math.floor(fx), j = Math.floor(fy);
  const tx = fx - i, ty = fy - j;
  const k = j * nx + i;
  return (depth[k] * (1 - tx) + depth[k + 1] * tx) * (1 - ty) + (depth[k + nx] * (1 - tx) + depth[k + nx + 1] * tx) * ty;
}

/** Signed distance from (x, y) to a closed polygon (negative inside). */
export function polygonDistance(polygon: Float64Array, x: number, y: number): number {
  const n = polygon.length / 2;
  let best = Infinity;
  let inside = false;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const ax = polygon[j * 2], ay = polygon[j * 2 + 1], bx = polygon[i * 2], by = polygon[i * 2 + 1];
    const ex = bx - ax, ey = by - ay;
    const wx = x - ax, wy = y - ay;
    const t = Math.min(1, Math.max(0, (wx * ex + wy * ey) / (ex * ex + ey * ey || 1)));
    const dx = wx - ex * t, dy = wy - ey * t;
    best = Math.min(best, dx * dx + dy * dy);
    if ((ay > y) !== (by > y) && x < ((bx - ax) * (y - ay)) / (by - ay) + ax) inside = !inside;
  }
  return inside ? -Math.sqrt(best) : Math.sqrt(best);
}
