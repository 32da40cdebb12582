import type { Camera } from '../core/camera.js';
import { invertAffine4 } from '../core/mat4.js';

export interface VisiblePointsOptions {
  /** Depth-buffer size relative to each camera's image (default 2). */
  scale?: number;
  /** How far behind the nearest surface a point may lie and still count as seen, world units (default 0.005). */
  tolerance?: number;
}

/**
 * The points (xyz triples, samples of `mesh`'s surface) that at least one camera sees: each camera
 * z-buffers the mesh, and a point counts as seen when it lies in front of the camera, inside its
 * image, and no more than `tolerance` behind the nearest surface at its pixel. Use it to compare a
 * reconstruction with a scan only where the views showed the scan — a scan's hidden inner
 * surfaces (a mouth cavity behind closed lips) can never be reconstructed from images.
 *
 * @example
 * const seen = visiblePoints(scanPoints, scan, viewSet.frames.map((f) => f.camera));
 */
export function visiblePoints(
  points: Float32Array, mesh: { positions: Float32Array; indices: Uint32Array }, cameras: readonly Camera[], options: VisiblePointsOptions = {},
): Float32Array {
  const { scale = 2, tolerance = 0.005 } = options;
  const count = points.length / 3;
  const seen = new Uint8Array(count);
  for (const camera of cameras) {
    const W = Math.round(camera.intrinsics.width * scale), H = Math.round(camera.intrinsics.height * scale);
    const fx = camera.intrinsics.fx * scale, fy = camera.intrinsics.fy * scale, cx = camera.intrinsics.cx * scale, cy = camera.intrinsics.cy * scale;
    const m = invertAffine4(camera.cam2world);
    const project = (x: number, y: number, z: number): [number, number, number] => {
      const zc = m[8] * x + m[9] * y + m[10] * z + m[11];
      return [(fx * (m[0] * x + m[1] * y + m[2] * z + m[3])) / zc + cx, (fy * (m[4] * x + m[5] * y + m[6] * z + m[7])) / zc + cy, zc];
    };
    const depth = depthBuffer(mesh, W, H, project);
    for (let i = 0; i < count; i++) {
      if (seen[i]) continue;
      const [u, v, z] = project(points[i * 3], points[i * 3 + 1], points[i * 3 + 2]);
      if (!(z > 0) || u < 0 || v < 0 || u >= W || v >= H) continue;
      if (z <= depth[Math.floor(u) + W * Math.floor(v)] + tolerance) seen[i] = 1;
    }
  }
  const kept: number[] = [];
  for (let i = 0; i < count; i++) if (seen[i]) kept.push(points[i * 3], points[i * 3 + 1], points[i * 3 + 2]);
  return Float32Array.from(kept);
}

/** Nearest camera-space depth per pixel (Infinity where empty), sampled at pixel centres. */
function depthBuffer(
  mesh: { positions: Float32Array; indices: Uint32Array }, W: number, H: number, project: (x: number, y: number, z: number) => [number, number, number],
): Float32Array {
  const depth = new Float32Array(W * H).fill(Infinity);
  const p = mesh.positions;
  const n = p.length / 3;
  const sx = new Float64Array(n), sy = new Float64Array(n), sz = new Float64Array(n);
  for (let i = 0; i < n; i++) [sx[i], sy[i], sz[i]] = project(p[i * 3], p[i * 3 + 1], p[i * 3 + 2]);
  const idx = mesh.indices;
  for (let t = 0; t < idx.length; t += 3) {
    const a = idx[t], b = idx[t + 1], c = idx[t + 2];
    if (!(sz[a] > 0 && sz[b] > 0 && sz[c] > 0)) continue;
    const area = (sx[b] - sx[a]) * (sy[c] - sy[a]) - (sy[b] - sy[a]) * (sx[c] - sx[a]);
    if (area === 0 || !Number.isFinite(area)) continue;
    const minX = Math.max(0, Math.floor(Math.min(sx[a], sx[b], sx[c]) - 0.5)), maxX = Math.min(W - 1, Math.ceil(Math.max(sx[a], sx[b], sx[c]) - 0.5));
    const minY = Math.max(0, Math.floor(Math.min(sy[a], sy[b], sy[c]) - 0.5)), maxY = Math.min(H - 1, Math.ceil(Math.max(sy[a], sy[b], sy[c]) - 0.5));
    for (let y = minY; y <= maxY; y++) {
      const py = y + 0.5;
      for (let x = minX; x <= maxX; x++) {
        const px = x + 0.5;
        const wa = ((sx[b] - px) * (sy[c] - py) - (sy[b] - py) * (sx[c] - px)) / area;
        const wb = ((sx[c] - px) * (sy[a] - py) - (sy[c] - py) * (sx[a] - px)) / area;
        const wc = 1 - wa - wb;
        if (wa < 0 || wb < 0 || wc < 0) continue;
        // Perspective-correct depth: 1/z is linear in screen space.
        const z = 1 / (wa / sz[a] + wb / sz[b] + wc / sz[c]);
        const o = x + W * y;
        if (z < depth[o]) depth[o] = z;
      }
    }
  }
  return depth;
}
