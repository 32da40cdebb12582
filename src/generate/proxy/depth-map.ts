import type { Camera } from '../../core/camera.js';
import { invertAffine4 } from '../../core/mat4.js';

/** Nearest camera depth (OpenCV z) per pixel; Infinity where nothing is seen. */
export interface DepthMap {
  width: number;
  height: number;
  depth: Float32Array;
}

/** Z-buffers a triangle mesh (world positions, triangle indices) from a pinhole camera. */
export function renderDepth(positions: Float32Array, indices: Uint32Array, camera: Camera): DepthMap {
  const { width, height, fx, fy, cx, cy } = camera.intrinsics;
  const m = invertAffine4(camera.cam2world);
  const n = positions.length / 3;
  const sx = new Float64Array(n), sy = new Float64Array(n), sz = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const x = positions[i * 3], y = positions[i * 3 + 1], z = positions[i * 3 + 2];
    const Z = m[8] * x + m[9] * y + m[10] * z + m[11];
    sz[i] = Z;
    sx[i] = (fx * (m[0] * x + m[1] * y + m[2] * z + m[3])) / Z + cx;
    sy[i] = (fy * (m[4] * x + m[5] * y + m[6] * z + m[7])) / Z + cy;
  }
  const depth = new Float32Array(width * height).fill(Infinity);
  for (let t = 0; t < indices.length; t += 3) {
    const a = indices[t], b = indices[t + 1], c = indices[t + 2];
    if (sz[a] <= 0 || sz[b] <= 0 || sz[c] <= 0) continue;
    const area = (sx[b] - sx[a]) * (sy[c] - sy[a]) - (sy[b] - sy[a]) * (sx[c] - sx[a]);
    if (area === 0) continue;
    const minX = Math.max(0, Math.floor(Math.min(sx[a], sx[b], sx[c])));
    const maxX = Math.min(width - 1, Math.ceil(Math.max(sx[a], sx[b], sx[c])));
    const minY = Math.max(0, Math.floor(Math.min(sy[a], sy[b], sy[c])));
    const maxY = Math.min(height - 1, Math.ceil(Math.max(sy[a], sy[b], sy[c])));
    for (let y = minY; y <= maxY; y++) {
      const py = y + 0.5;
      for (let x = minX; x <= maxX; x++) {
        const px = x + 0.5;
        const wa = ((sx[b] - px) * (sy[c] - py) - (sy[b] - py) * (sx[c] - px)) / area;
        const wb = ((sx[c] - px) * (sy[a] - py) - (sy[c] - py) * (sx[a] - px)) / area;
        const wc = 1 - wa - wb;
        if (wa < 0 || wb < 0 || wc < 0) continue;
        const inverse = wa / sz[a] + wb / sz[b] + wc / sz[c];
        const d = 1 / inverse;
        const k = y * width + x;
        if (d < depth[k]) depth[k] = d;
      }
    }
  }
  return { width, height, depth };
}

/** The nearest depth among the 2×2 pixels around (u, v): a conservative visibility reference. */
export function nearestDepth(map: DepthMap, u: number, v: number): number {
  const x0 = Math.floor(u - 0.5), y0 = Math.floor(v - 0.5);
  let best = Infinity;
  for (let j = y0; j <= y0 + 1; j++) {
    for (let i = x0; i <= x0 + 1; i++) {
      if (i < 0 || j < 0 || i >= map.width || j >= map.height) continue;
      best = Math.min(best, map.depth[j * map.width + i]);
    }
  }
  return best;
}
