/**
 * Chamfer distance between surfaces, measured on point samples: each point's distance to the
 * nearest point of the other set (found through a uniform hash grid), averaged both ways.
 */
import { createRandom } from '../core/random.js';

export interface ChamferResult {
  /** Mean distance from points of A to their nearest point of B. */
  aToB: number;
  /** Mean distance from points of B to their nearest point of A. */
  bToA: number;
  /** (aToB + bToA) / 2, the usual symmetric Chamfer distance (L1 form, not squared). */
  mean: number;
  /** Largest nearest-point distance either way (a sampled Hausdorff distance). */
  max: number;
}

/** Chamfer distance between two point sets given as xyz triples. */
export function chamferDistance(a: Float32Array, b: Float32Array): ChamferResult {
  if (a.length === 0 || b.length === 0) throw new Error('chamferDistance: empty point set');
  const there = nearestDistances(a, new PointGrid(b));
  const back = nearestDistances(b, new PointGrid(a));
  const aToB = mean(there), bToA = mean(back);
  return { aToB, bToA, mean: (aToB + bToA) / 2, max: Math.max(maxOf(there), maxOf(back)) };
}

/**
 * `count` points spread uniformly by area over a triangle mesh, from a seeded generator so runs
 * repeat exactly.
 */
export function sampleSurfacePoints(positions: Float32Array, indices: Uint32Array, count: number, seed = 1): Float32Array {
  const triangles = indices.length / 3;
  const cumulative = new Float64Array(triangles);
  let total = 0;
  for (let t = 0; t < triangles; t++) {
    total += triangleArea(positions, indices[t * 3], indices[t * 3 + 1], indices[t * 3 + 2]);
    cumulative[t] = total;
  }
  const random = createRandom(seed);
  const out = new Float32Array(count * 3);
  for (let s = 0; s < count; s++) {
    const target = random() * total;
    let lo = 0, hi = triangles - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid] < target) lo = mid + 1;
      else hi = mid;
    }
    let u = random(), v = random();
    if (u + v > 1) [u, v] = [1 - u, 1 - v];
    const a = indices[lo * 3] * 3, b = indices[lo * 3 + 1] * 3, c = indices[lo * 3 + 2] * 3;
    for (let k = 0; k < 3; k++) out[s * 3 + k] = positions[a + k] + u * (positions[b + k] - positions[a + k]) + v * (positions[c + k] - positions[a + k]);
  }
  return out;
}

/** Points in buckets of a uniform grid sized so a bucket holds a few points on average. */
class PointGrid {
  private readonly cell: number;
  private readonly min: [number, number, number];
  private readonly dims: [number, number, number];
  private readonly start: Uint32Array;
  private readonly order: Uint32Array;

  constructor(private readonly points: Float32Array) {
    const n = points.length / 3;
    const min: [number, number, number] = [Infinity, Infinity, Infinity];
    const max: [number, number, number] = [-Infinity, -Infinity, -Infinity];
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < 3; k++) {
        min[k] = Math.min(min[k], points[i * 3 + k]);
        max[k] = Math.max(max[k], points[i * 3 + k]);
      }
    }
    const extent = Math.max(max[0] - min[0], max[1] - min[1], max[2] - min[2], 1e-9);
    // Surface samples fill about n^(2/3) cells of a grid with n^(1/3) per side... aim for ~2 per occupied cell.
    this.cell = extent / Math.max(1, Math.round(Math.sqrt(n / 2)));
    this.min = min;
    this.dims = [0, 1, 2].map((k) => Math.floor((max[k] - min[k]) / this.cell) + 1) as [number, number, number];
    const cells = this.dims[0] * this.dims[1] * this.dims[2];
    this.start = new Uint32Array(cells + 1);
    const cellOf = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      cellOf[i] = this.cellIndex(points[i * 3], points[i * 3 + 1], points[i * 3 + 2]);
      this.start[cellOf[i] + 1]++;
    }
    for (let c = 0; c < cells; c++) this.start[c + 1] += this.start[c];
    const fill = this.start.slice(0, cells);
    this.order = new Uint32Array(n);
    for (let i = 0; i < n; i++) this.order[fill[cellOf[i]]++] = i;
  }

  private coordinate(value: number, axis: number): number {
    return Math.min(this.dims[axis] - 1, Math.max(0, Math.floor((value - this.min[axis]) / this.cell)));
  }

  private cellIndex(x: number, y: number, z: number): number {
    return this.coordinate(x, 0) + this.dims[0] * (this.coordinate(y, 1) + this.dims[1] * this.coordinate(z, 2));
  }

  /** Distance from (x, y, z) to the nearest stored point: search shells of cells until no closer point can exist. */
  nearest(x: number, y: number, z: number): number {
    const ci = this.coordinate(x, 0), cj = this.coordinate(y, 1), ck = this.coordinate(z, 2);
    let best = Infinity;
    const maxRing = Math.max(...this.dims);
    for (let ring = 0; ring <= maxRing; ring++) {
      // Every point in ring r+1 or beyond is at least r cells away from the query's cell.
      if (best < (ring - 1) * this.cell) break;
      for (let k = ck - ring; k <= ck + ring; k++) {
        if (k < 0 || k >= this.dims[2]) continue;
        for (let j = cj - ring; j <= cj + ring; j++) {
          if (j < 0 || j >= this.dims[1]) continue;
          const onShellJK = Math.abs(k - ck) === ring || Math.abs(j - cj) === ring;
          for (let i = ci - ring; i <= ci + ring; i += onShellJK ? 1 : Math.max(1, 2 * ring)) {
            if (i < 0 || i >= this.dims[0]) continue;
            const c = i + this.dims[0] * (j + this.dims[1] * k);
            for (let s = this.start[c]; s < this.start[c + 1]; s++) {
              const p = this.order[s] * 3;
              const dx = this.points[p] - x, dy = this.points[p + 1] - y, dz = this.points[p + 2] - z;
              const d = dx * dx + dy * dy + dz * dz;
              if (d < best * best) best = Math.sqrt(d);
            }
          }
        }
      }
    }
    return best;
  }
}

function nearestDistances(points: Float32Array, grid: PointGrid): Float64Array {
  const n = points.length / 3;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = grid.nearest(points[i * 3], points[i * 3 + 1], points[i * 3 + 2]);
  return out;
}

function triangleArea(p: Float32Array, a: number, b: number, c: number): number {
  const ux = p[b * 3] - p[a * 3], uy = p[b * 3 + 1] - p[a * 3 + 1], uz = p[b * 3 + 2] - p[a * 3 + 2];
  const vx = p[c * 3] - p[a * 3], vy = p[c * 3 + 1] - p[a * 3 + 1], vz = p[c * 3 + 2] - p[a * 3 + 2];
  return 0.5 * Math.hypot(uy * vz - uz * vy, uz * vx - ux * vz, ux * vy - uy * vx);
}

function mean(values: Float64Array): number {
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

function maxOf(values: Float64Array): number {
  let m = 0;
  for (const v of values) if (v > m) m = v;
  return m;
}
