import { type DensityGrid, sampleGridTrilinear } from './density-grid.js';

export interface SurfaceDepthOptions {
  /** How far outside each vertex the march starts, in grid cells (default 2). */
  outside?: number;
  /** How far inside each vertex the march may end, in grid cells (default 4). */
  inside?: number;
  /** Samples per grid cell (default 4). */
  samplesPerCell?: number;
  /** Transmittance that marks the surface (default 0.5: the median depth of a ray's colour). */
  transmittance?: number;
}

export const SURFACE_DEPTH_DEFAULTS = { outside: 2, inside: 4, samplesPerCell: 4, transmittance: 0.5 };

/**
 * For every vertex, the signed distance along its unit normal (negative = inward) to where a ray
 * coming in from outside along −normal has its transmittance fall to `transmittance` in the
 * sampled density — the depth whose colour a viewer looking at the surface head-on mostly sees.
 * The mesh itself sits where the grid's axis occlusion is low (to match silhouettes) and is
 * simplified, so it can lie a cell or so off that depth; baking colour there would mix in the
 * field's unconstrained fringe. Vertices whose march never gets that opaque keep 0.
 */
export function surfaceDepths(grid: DensityGrid, positions: Float32Array, normals: Float32Array, options: SurfaceDepthOptions = {}): Float32Array {
  const o = { ...SURFACE_DEPTH_DEFAULTS, ...options };
  const step = grid.spacing / o.samplesPerCell;
  const samples = Math.ceil((o.outside + o.inside) * o.samplesPerCell);
  const start = o.outside * grid.spacing;
  const threshold = -Math.log(o.transmittance);
  const out = new Float32Array(positions.length / 3);
  for (let v = 0; v < out.length; v++) {
    const px = positions[v * 3], py = positions[v * 3 + 1], pz = positions[v * 3 + 2];
    const nx = normals[v * 3], ny = normals[v * 3 + 1], nz = normals[v * 3 + 2];
    let depth = 0;
    for (let s = 0; s < samples; s++) {
      const t = start - (s + 0.5) * step;
      const sigma = Math.max(0, sampleGridTrilinear(grid, px + t * nx, py + t * ny, pz + t * nz));
      const next = depth + sigma * step;
      if (next >= threshold) {
        out[v] = start - (s + (threshold - depth) / (next - depth)) * step;
        break;
      }
      depth = next;
    }
  }
  return out;
}
