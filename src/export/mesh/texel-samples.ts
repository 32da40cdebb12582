import type { AtlasMesh } from './uv-atlas.js';

/** One batch of texel samples: texel `texels[i]` (x + y·size) maps to surface point `points[3i..]` with unit normal `normals[3i..]`. */
export interface TexelBatch {
  count: number;
  texels: Int32Array;
  points: Float32Array;
  normals: Float32Array;
}

export interface TexelSampleOptions {
  /** Unit normal per atlas vertex, interpolated across each triangle (then renormalised). */
  normals: Float32Array;
  /**
   * Signed distance per atlas vertex to move each sample along its normal (negative = inward),
   * interpolated like the normals. Omitted: samples lie on the triangles.
   */
  offsets?: Float32Array;
  /** Samples per batch (default 65 536). */
  batchSize?: number;
}

/**
 * Visits every texel of a `size`² texture whose centre lies inside a triangle's UV footprint, once,
 * with the matching surface point and interpolated normal, in batches (so a caller can evaluate a
 * field on each batch at once). Returns the coverage mask (1 = texel visited).
 */
export function forEachTexelSample(mesh: AtlasMesh, size: number, options: TexelSampleOptions, onBatch: (batch: TexelBatch) => void): Uint8Array {
  const batchSize = options.batchSize ?? 65_536;
  const { normals: vn, offsets } = options;
  const batch: TexelBatch = { count: 0, texels: new Int32Array(batchSize), points: new Float32Array(batchSize * 3), normals: new Float32Array(batchSize * 3) };
  const covered = new Uint8Array(size * size);
  const flush = (): void => {
    if (batch.count === 0) return;
    onBatch(batch);
    batch.count = 0;
  };
  const { positions: p, uvs, indices } = mesh;
  for (let t = 0; t < indices.length; t += 3) {
    const a = indices[t], b = indices[t + 1], c = indices[t + 2];
    const ax = uvs[a * 2] * size, ay = uvs[a * 2 + 1] * size;
    const bx = uvs[b * 2] * size, by = uvs[b * 2 + 1] * size;
    const cx = uvs[c * 2] * size, cy = uvs[c * 2 + 1] * size;
    const area = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax);
    if (area === 0) continue;
    const minX = Math.max(0, Math.floor(Math.min(ax, bx, cx) - 0.5));
    const maxX = Math.min(size - 1, Math.ceil(Math.max(ax, bx, cx) - 0.5));
    const minY = Math.max(0, Math.floor(Math.min(ay, by, cy) - 0.5));
    const maxY = Math.min(size - 1, Math.ceil(Math.max(ay, by, cy) - 0.5));
    for (let y = minY; y <= maxY; y++) {
      const py = y + 0.5;
      for (let x = minX; x <= maxX; x++) {
        const texel = x + y * size;
        if (covered[texel]) continue;
        const px = x + 0.5;
        const wa = ((bx - px) * (cy - py) - (by - py) * (cx - px)) / area;
        const wb = ((cx - px) * (ay - py) - (cy - py) * (ax - px)) / area;
        const wc = 1 - wa - wb;
        if (wa < -1e-7 || wb < -1e-7 || wc < -1e-7) continue;
        covered[texel] = 1;
        const i = batch.count, o = i * 3;
        let nx = wa * vn[a * 3] + wb * vn[b * 3] + wc * vn[c * 3];
        let ny = wa * vn[a * 3 + 1] + wb * vn[b * 3 + 1] + wc * vn[c * 3 + 1];
        let nz = wa * vn[a * 3 + 2] + wb * vn[b * 3 + 2] + wc * vn[c * 3 + 2];
        const length = Math.hypot(nx, ny, nz) || 1;
        nx /= length;
        ny /= length;
        nz /= length;
        const shift = offsets ? wa * offsets[a] + wb * offsets[b] + wc * offsets[c] : 0;
        batch.points[o] = wa * p[a * 3] + wb * p[b * 3] + wc * p[c * 3] + shift * nx;
        batch.points[o + 1] = wa * p[a * 3 + 1] + wb * p[b * 3 + 1] + wc * p[c * 3 + 1] + shift * ny;
        batch.points[o + 2] = wa * p[a * 3 + 2] + wb * p[b * 3 + 2] + wc * p[c * 3 + 2] + shift * nz;
        batch.normals[o] = nx;
        batch.normals[o + 1] = ny;
        batch.normals[o + 2] = nz;
        batch.texels[i] = texel;
        if (++batch.count === batchSize) flush();
      }
    }
  }
  flush();
  return covered;
}
