import type { Camera } from '../../core/camera.js';
import { invertAffine4 } from '../../core/mat4.js';
import type { RgbaImage } from '../../core/image.js';
import { type SplatCloud, splatColor } from './splat-cloud.js';

export interface SplatRenderOptions {
  /** Kernel cut-off in standard deviations (default 3, KHR_gaussian_splatting's "ellipse" kernel). */
  cutoff?: number;
  /** Variance added to every projected Gaussian, in pixels² (default 0.3, as the 3DGS rasterizer). */
  lowPass?: number;
  /** Splats nearer than this (camera depth, scene units) are skipped (default 0.01). */
  near?: number;
}

export const SPLAT_RENDER_DEFAULTS: Required<SplatRenderOptions> = { cutoff: 3, lowPass: 0.3, near: 0.01 };

/**
 * Reference CPU renderer for splats, as in 3D Gaussian Splatting: each Gaussian is projected to a
 * 2D ellipse (EWA, local affine approximation of the perspective), sorted by camera depth and
 * composited front to back in sRGB display values; alpha is the accumulated coverage. Pixel
 * (i, j) is sampled at its centre; the camera uses OpenCV axes and the cloud's units.
 */
export function renderSplats(cloud: SplatCloud, camera: Camera, options: SplatRenderOptions = {}): RgbaImage {
  const { cutoff, lowPass, near } = { ...SPLAT_RENDER_DEFAULTS, ...options };
  const { fx, fy, cx, cy, width, height } = camera.intrinsics;
  const w2c = invertAffine4(camera.cam2world);
  const n = cloud.count;
  const depth = new Float64Array(n);
  const order: number[] = [];
  for (let i = 0; i < n; i++) {
    const [x, y, z] = [cloud.positions[i * 3], cloud.positions[i * 3 + 1], cloud.positions[i * 3 + 2]];
    depth[i] = w2c[8] * x + w2c[9] * y + w2c[10] * z + w2c[11];
    if (depth[i] > near) order.push(i);
  }
  order.sort((a, b) => depth[a] - depth[b]);
  const colour = new Float64Array(width * height * 3);
  const transmittance = new Float64Array(width * height).fill(1);
  for (const i of order) {
    const px = cloud.positions[i * 3], py = cloud.positions[i * 3 + 1], pz = cloud.positions[i * 3 + 2];
    const xc = w2c[0] * px + w2c[1] * py + w2c[2] * pz + w2c[3];
    const yc = w2c[4] * px + w2c[5] * py + w2c[6] * pz + w2c[7];
    const zc = depth[i];
    // World covariance Σ = R S² Rᵀ, then camera: W Σ Wᵀ, then screen: J (W Σ Wᵀ) Jᵀ.
    const R = rotationMatrix(cloud.rotations, i);
    const s = [cloud.scales[i * 3], cloud.scales[i * 3 + 1], cloud.scales[i * 3 + 2]];
    const M = [0, 1, 2].map((r) => [0, 1, 2].map((c) => w2c[r * 4] * R[0][c] * s[c] + w2c[r * 4 + 1] * R[1][c] * s[c] + w2c[r * 4 + 2] * R[2][c] * s[c]));
    const J = [
      [fx / zc, 0, (-fx * xc) / (zc * zc)],
      [0, fy / zc, (-fy * yc) / (zc * zc)],
    ];
    const T = J.map((row) => [0, 1, 2].map((c) => row[0] * M[0][c] + row[1] * M[1][c] + row[2] * M[2][c]));
    const a = T[0][0] ** 2 + T[0][1] ** 2 + T[0][2] ** 2 + lowPass;
    const b = T[0][0] * T[1][0] + T[0][1] * T[1][1] + T[0][2] * T[1][2];
    const c = T[1][0] ** 2 + T[1][1] ** 2 + T[1][2] ** 2 + lowPass;
    const det = a * c - b * b;
    if (!(det > 0)) continue;
    const ia = c / det, ib = -b / det, ic = a / det;
    const u = (fx * xc) / zc + cx, v = (fy * yc) / zc + cy;
    const rx = cutoff * Math.sqrt(a), ry = cutoff * Math.sqrt(c);
    const x0 = Math.max(0, Math.ceil(u - rx - 0.5)), x1 = Math.min(width - 1, Math.floor(u + rx - 0.5));
    const y0 = Math.max(0, Math.ceil(v - ry - 0.5)), y1 = Math.min(height - 1, Math.floor(v + ry - 0.5));
    if (x0 > x1 || y0 > y1) continue;
    const [r, g, bl] = splatColor(cloud, i);
    const opacity = cloud.opacities[i];
    const limit = cutoff * cutoff;
    for (let y = y0; y <= y1; y++) {
      const dy = y + 0.5 - v;
      for (let x = x0; x <= x1; x++) {
        const dx = x + 0.5 - u;
        const r2 = ia * dx * dx + 2 * ib * dx * dy + ic * dy * dy;
        if (r2 > limit) continue;
        const alpha = Math.min(0.99, opacity * Math.exp(-0.5 * r2));
        if (alpha < 1 / 255) continue;
        const p = y * width + x;
        const t = transmittance[p];
        if (t < 1e-4) continue;
        colour[p * 3] += t * alpha * r;
        colour[p * 3 + 1] += t * alpha * g;
        colour[p * 3 + 2] += t * alpha * bl;
        transmittance[p] = t * (1 - alpha);
      }
    }
  }
  const image: RgbaImage = { width, height, data: new Uint8Array(width * height * 4) };
  for (let p = 0; p < width * height; p++) {
    const coverage = 1 - transmittance[p];
    image.data[p * 4 + 3] = Math.round(coverage * 255);
    // Straight alpha: un-premultiply the accumulated colour.
    for (let k = 0; k < 3; k++) image.data[p * 4 + k] = coverage > 0 ? Math.round(Math.min(1, colour[p * 3 + k] / coverage) * 255) : 0;
  }
  return image;
}

/** Rotation matrix (row-major 3×3) of the xyzw quaternion of splat i. */
function rotationMatrix(q: Float32Array, i: number): number[][] {
  let x = q[i * 4], y = q[i * 4 + 1], z = q[i * 4 + 2], w = q[i * 4 + 3];
  const length = Math.hypot(x, y, z, w) || 1;
  x /= length; y /= length; z /= length; w /= length;
  return [
    [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
    [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
    [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
  ];
}
