import { Head3dError } from '../../core/errors.js';
import { METRES_PER_UNIT, PANOHEAD_HEAD_HEIGHT } from '../../eval/normalize-head.js';
import type { Pivot } from '../mesh/export-mesh.js';
import { sampleDensityGrid } from '../mesh/density-grid.js';
import { axisVisibility } from '../mesh/visibility.js';
import type { FieldSampler } from '../field-sampler.js';
import { SH_C0, type SplatCloud } from './splat-cloud.js';

export interface SplatExtractOptions {
  /** Grid cells along the longest side of the bounds; one candidate splat per grid vertex (default 192). */
  resolution?: number;
  /**
   * Smallest visible contribution a grid vertex must make to be kept: its alpha over one cell
   * times its transmittance from outside along the clearest axis direction (default 0.1).
   */
  minWeight?: number;
  /** Most splats; the highest-weight ones are kept and grown to cover the same area (default 250 000). */
  maxSplats?: number;
  /** Tangential standard deviation in grid cells (default 0.7: neighbouring discs overlap). */
  tangentScale?: number;
  /** Standard deviation along the surface normal in grid cells (default 0.15: flat discs). */
  normalScale?: number;
  /** Density around which the grid is refined (default 25, the mesh exporter's iso level). */
  iso?: number;
  /** Origin of the exported splats (default 'neck'). */
  pivot?: Pivot;
}

export const SPLAT_EXTRACT_DEFAULTS: Required<SplatExtractOptions> = {
  resolution: 192,
  minWeight: 0.1,
  maxSplats: 250_000,
  tangentScale: 0.7,
  normalScale: 0.15,
  iso: 25,
  pivot: 'neck',
};

/**
 * Places Gaussians where the field is both dense and visible: every grid vertex whose alpha
 * (1 − e^{−σ·h}) times its best axis-aligned transmittance from outside reaches `minWeight`
 * becomes a flat disc facing along −∇σ, sized from the grid spacing, with the field's colour.
 *
 * @example
 * const cloud = extractSplats(field, { resolution: 192, maxSplats: 200_000 });
 */
export function extractSplats(field: FieldSampler, options: SplatExtractOptions = {}): SplatCloud {
  const o = { ...SPLAT_EXTRACT_DEFAULTS, ...options };
  if (!Number.isInteger(o.resolution) || o.resolution < 8 || o.resolution > 1024) throw new Head3dError(`splats: grid resolution must be an integer in 8..1024 (got ${o.resolution})`);
  if (!Number.isInteger(o.maxSplats) || o.maxSplats < 1) throw new Head3dError(`splats: the splat budget must be a positive integer (got ${o.maxSplats})`);
  const grid = sampleDensityGrid(field, { resolution: o.resolution, refineAround: o.iso });
  const { nx, ny, nz, spacing: h, values, origin } = grid;
  const alpha = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) alpha[i] = 1 - Math.exp(-Math.max(0, values[i]) * h);
  const visibility = axisVisibility(grid, alpha);

  let candidates: number[] = [];
  for (let i = 0; i < alpha.length; i++) if (alpha[i] * visibility[i] >= o.minWeight) candidates.push(i);
  if (candidates.length === 0) throw new Head3dError('splats: the field has no visible density', { hint: 'check that the field was fitted' });
  let grow = 1;
  if (candidates.length > o.maxSplats) {
    const weight = (i: number): number => alpha[i] * visibility[i];
    candidates.sort((a, b) => weight(b) - weight(a));
    grow = Math.sqrt(candidates.length / o.maxSplats);
    candidates = candidates.slice(0, o.maxSplats);
  }
  const count = candidates.length;
  const pivot = o.pivot === 'neck' ? [0, -PANOHEAD_HEAD_HEIGHT / 2, 0] : [0, 0, 0];
  const world = new Float32Array(count * 3);
  const cloud: SplatCloud = {
    count,
    positions: new Float32Array(count * 3),
    scales: new Float32Array(count * 3),
    rotations: new Float32Array(count * 4),
    opacities: new Float32Array(count),
    sh0: new Float32Array(count * 3),
  };
  const sx = 1, sy = nx, sz = nx * ny;
  candidates.forEach((index, s) => {
    const i = index % nx, j = Math.floor(index / nx) % ny, k = Math.floor(index / sz);
    const p = [origin[0] + i * h, origin[1] + j * h, origin[2] + k * h];
    world.set(p, s * 3);
    for (let a = 0; a < 3; a++) cloud.positions[s * 3 + a] = (p[a] - pivot[a]) * METRES_PER_UNIT;
    // Outward normal: down the density gradient (central differences).
    const at = (offset: number): number => values[index + offset] ?? 0;
    const g = [at(sx) - at(-sx), at(sy) - at(-sy), at(sz) - at(-sz)];
    const length = Math.hypot(g[0], g[1], g[2]);
    const n = length > 0 ? [-g[0] / length, -g[1] / length, -g[2] / length] : [0, 0, 1];
    const flat = length > 0 ? o.normalScale : o.tangentScale;
    cloud.rotations.set(quaternionFromZ(n), s * 4);
    const tangent = o.tangentScale * grow * h * METRES_PER_UNIT;
    cloud.scales.set([tangent, tangent, flat * h * METRES_PER_UNIT], s * 3);
    cloud.opacities[s] = Math.min(0.99, Math.max(0.05, alpha[index]));
  });
  const colours = new Float32Array(count * 3);
  field.color(world, count, colours);
  for (let c = 0; c < count * 3; c++) cloud.sh0[c] = (colours[c] - 0.5) / SH_C0;
  return cloud;
}

/** Unit quaternion (x, y, z, w) rotating +Z onto the unit vector n. */
export function quaternionFromZ(n: number[]): [number, number, number, number] {
  const w = 1 + n[2];
  if (w < 1e-6) return [1, 0, 0, 0]; // n = −Z: half turn about X
  const x = -n[1], y = n[0];
  const length = Math.hypot(x, y, w);
  return [x / length, y / length, 0, w / length];
}
