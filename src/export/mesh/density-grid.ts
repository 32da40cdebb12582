import type { FieldSampler } from '../field-sampler.js';

/**
 * Field density sampled at the vertices of a regular grid: value (i, j, k) is at
 * `origin + spacing·(i, j, k)` and stored at `values[i + nx·(j + ny·k)]`.
 */
export interface DensityGrid {
  nx: number;
  ny: number;
  nz: number;
  origin: [number, number, number];
  spacing: number;
  values: Float32Array;
}

export interface DensityGridOptions {
  /** Cells along the longest side of the field's bounds (default 256). */
  resolution?: number;
  /**
   * Coarse-to-fine sampling for this iso level: the field is first sampled every `blockSize`
   * vertices; only blocks whose coarse corners straddle `iso`, and their neighbours, are then
   * sampled at full resolution (elsewhere a block is filled with the mean of its coarse corners,
   * which is on the same side of `iso` as all of them). Features thinner than a block that no coarse sample
   * touches can be missed. Leave undefined to sample every vertex.
   */
  refineAround?: number;
  /** Fine vertices per coarse block side (default 4). */
  blockSize?: number;
  /** Points per `field.density` call (default 65 536). */
  batchSize?: number;
}

export const DENSITY_GRID_DEFAULTS = {
  resolution: 256,
  blockSize: 4,
  batchSize: 65_536,
};

/**
 * Samples `field.density` on a grid of cubic cells covering the field's bounds, plus one layer of
 * zero-density vertices all around, so a surface extracted from it is closed even where the
 * field is dense at its bounds (a neck cut by the bounding box gets a cap). Points where
 * `field.occupied` says the field is empty are set to 0 without asking the field.
 */
export function sampleDensityGrid(field: FieldSampler, options: DensityGridOptions = {}): DensityGrid {
  const { resolution, batchSize, blockSize: B } = { ...DENSITY_GRID_DEFAULTS, ...options };
  const min = field.boundsMin, max = field.boundsMax;
  const extent = Math.max(max[0] - min[0], max[1] - min[1], max[2] - min[2]);
  if (!(extent > 0)) throw new Error('sampleDensityGrid: the field has empty bounds');
  const spacing = extent / resolution;
  // Interior vertices span the bounds (rounded up to whole blocks); one padding vertex each side.
  const inner = [0, 1, 2].map((k) => B * Math.max(1, Math.ceil((max[k] - min[k]) / spacing / B - 1e-9)) + 1);
  const [nx, ny, nz] = inner.map((n) => n + 2);
  const origin: [number, number, number] = [min[0] - spacing, min[1] - spacing, min[2] - spacing];
  const values = new Float32Array(nx * ny * nz);
  const grid: DensityGrid = { nx, ny, nz, origin, spacing, values };
  const sampler = new BatchSampler(field, grid, batchSize);

  if (options.refineAround === undefined) {
    for (let k = 1; k < nz - 1; k++) for (let j = 1; j < ny - 1; j++) for (let i = 1; i < nx - 1; i++) sampler.add(i, j, k);
    sampler.flush();
    return grid;
  }
  const iso = options.refineAround;
  const [bx, by, bz] = inner.map((n) => (n - 1) / B);
  // Coarse pass: every B-th interior vertex.
  for (let c = 0; c <= bz; c++) for (let b = 0; b <= by; b++) for (let a = 0; a <= bx; a++) sampler.add(1 + a * B, 1 + b * B, 1 + c * B);
  sampler.flush();
  const coarse = (a: number, b: number, c: number): number => values[1 + a * B + nx * (1 + b * B + ny * (1 + c * B))];
  const straddles = new Uint8Array(bx * by * bz);
  for (let c = 0; c < bz; c++) {
    for (let b = 0; b < by; b++) {
      for (let a = 0; a < bx; a++) {
        let below = false, above = false;
        for (let corner = 0; corner < 8; corner++) {
          const v = coarse(a + (corner & 1), b + ((corner >> 1) & 1), c + ((corner >> 2) & 1));
          if (v >= iso) above = true;
          else below = true;
        }
        straddles[a + bx * (b + by * c)] = above && below ? 1 : 0;
      }
    }
  }
  for (let c = 0; c < bz; c++) {
    for (let b = 0; b < by; b++) {
      for (let a = 0; a < bx; a++) {
        let refine = false;
        for (let dc = -1; dc <= 1 && !refine; dc++) {
          for (let db = -1; db <= 1 && !refine; db++) {
            for (let da = -1; da <= 1 && !refine; da++) {
              const aa = a + da, bb = b + db, cc = c + dc;
              if (aa >= 0 && bb >= 0 && cc >= 0 && aa < bx && bb < by && cc < bz && straddles[aa + bx * (bb + by * cc)]) refine = true;
            }
          }
        }
        const baseI = 1 + a * B, baseJ = 1 + b * B, baseK = 1 + c * B;
        if (refine) {
          for (let k = 0; k <= B; k++) for (let j = 0; j <= B; j++) for (let i = 0; i <= B; i++) sampler.add(baseI + i, baseJ + j, baseK + k);
          continue;
        }
        // All eight coarse corners lie on one side of iso, and so does their mean.
        let mean = 0;
        for (let corner = 0; corner < 8; corner++) mean += coarse(a + (corner & 1), b + ((corner >> 1) & 1), c + ((corner >> 2) & 1)) / 8;
        for (let k = 0; k <= B; k++) {
          for (let j = 0; j <= B; j++) {
            let index = baseI + nx * (baseJ + j + ny * (baseK + k));
            for (let i = 0; i <= B; i++, index++) if (!sampler.sampled[index]) values[index] = mean;
          }
        }
      }
    }
  }
  sampler.flush();
  return grid;
}

/** Collects grid vertices to sample and asks the field for them in batches (each vertex once). */
class BatchSampler {
  private readonly points: Float32Array;
  private readonly targets: Int32Array;
  private readonly out: Float32Array;
  /** 1 where the vertex has been sampled (or found empty through `occupied`). */
  readonly sampled: Uint8Array;
  private pending = 0;
  /** Vertices actually sent to the field. */
  count = 0;

  constructor(
    private readonly field: FieldSampler,
    private readonly grid: DensityGrid,
    private readonly batchSize: number,
  ) {
    this.points = new Float32Array(batchSize * 3);
    this.targets = new Int32Array(batchSize);
    this.out = new Float32Array(batchSize);
    this.sampled = new Uint8Array(grid.values.length);
  }

  add(i: number, j: number, k: number): void {
    const { nx, ny, origin, spacing, values } = this.grid;
    const index = i + nx * (j + ny * k);
    if (this.sampled[index]) return;
    this.sampled[index] = 1;
    const x = origin[0] + i * spacing, y = origin[1] + j * spacing, z = origin[2] + k * spacing;
    if (this.field.occupied && !this.field.occupied(x, y, z)) {
      values[index] = 0;
      return;
    }
    const p = this.pending * 3;
    this.points[p] = x;
    this.points[p + 1] = y;
    this.points[p + 2] = z;
    this.targets[this.pending] = index;
    if (++this.pending === this.batchSize) this.flush();
  }

  flush(): void {
    if (this.pending === 0) return;
    this.field.density(this.points, this.pending, this.out);
    for (let i = 0; i < this.pending; i++) this.grid.values[this.targets[i]] = this.out[i];
    this.count += this.pending;
    this.pending = 0;
  }
}

/** Trilinear interpolation of the grid at a world point (0 outside). */
export function sampleGridTrilinear(grid: DensityGrid, x: number, y: number, z: number): number {
  const { nx, ny, nz, origin, spacing, values } = grid;
  const fx = (x - origin[0]) / spacing, fy = (y - origin[1]) / spacing, fz = (z - origin[2]) / spacing;
  const i = Math.floor(fx), j = Math.floor(fy), k = Math.floor(fz);
  if (i < 0 || j < 0 || k < 0 || i >= nx - 1 || j >= ny - 1 || k >= nz - 1) return 0;
  const tx = fx - i, ty = fy - j, tz = fz - k;
  const base = i + nx * (j + ny * k);
  const sx = 1, sy = nx, sz = nx * ny;
  const c00 = values[base] * (1 - tx) + values[base + sx] * tx;
  const c10 = values[base + sy] * (1 - tx) + values[base + sy + sx] * tx;
  const c01 = values[base + sz] * (1 - tx) + values[base + sz + sx] * tx;
  const c11 = values[base + sz + sy] * (1 - tx) + values[base + sz + sy + sx] * tx;
  return (c00 * (1 - ty) + c10 * ty) * (1 - tz) + (c01 * (1 - ty) + c11 * ty) * tz;
}
