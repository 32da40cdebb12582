import type { FieldKernels } from '../../field/field.js';
import { type OccupancyGrid, cellIndex } from '../../render/occupancy.js';
import type { MarchOptions } from '../../render/ray-marcher.js';
import { intersectBox } from '../../render/rays.js';

/**
 * A batch of rays and their samples, built on the host for the WebGPU kernels. Each ray is marched
 * through the occupancy grid exactly as RayMarcher.render walks it — same box test, start at
 * entry + jitter·step, skip unoccupied cells and points outside the unit cube, at most
 * `maxSamples` samples — except that the host does not know the field, so it cannot stop at low
 * transmittance: the list runs on to the end of the occupied cells, and the compositing kernel
 * cuts it where the CPU marcher would have stopped (wgsl/composite-loss.ts). The samples of a ray
 * are contiguous; ray r owns [ranges[2r], ranges[2r] + ranges[2r+1]).
 */
export class RayBatch {
  rays = 0;
  samples = 0;
  readonly ranges: Uint32Array;
  readonly background: Float32Array;
  readonly target: Float32Array;
  /** The float64 targets, for the host's squared error (the CPU marcher compares in float64). */
  readonly target64: Float64Array;
  readonly units: Float32Array;
  readonly dirs: Float32Array;
  readonly deltas: Float32Array;
  private readonly box = new Float64Array(2);
  private readonly unit = new Float32Array(3);

  constructor(
    readonly rayCapacity: number,
    readonly sampleCapacity: number,
    private readonly kernels: FieldKernels,
    private readonly grid: OccupancyGrid,
    private readonly march: MarchOptions,
  ) {
    if (sampleCapacity < march.maxSamples) throw new Error(`ray batch: ${sampleCapacity} samples cannot hold one ray of ${march.maxSamples}`);
    this.ranges = new Uint32Array(rayCapacity * 2);
    this.background = new Float32Array(rayCapacity * 3);
    this.target = new Float32Array(rayCapacity * 3);
    this.target64 = new Float64Array(rayCapacity * 3);
    this.units = new Float32Array(sampleCapacity * 3);
    this.dirs = new Float32Array(sampleCapacity * 3);
    this.deltas = new Float32Array(sampleCapacity);
  }

  /** Whether another ray surely fits (its sample count is not known before marching it). */
  get hasRoom(): boolean {
    return this.rays < this.rayCapacity && this.samples + this.march.maxSamples <= this.sampleCapacity;
  }

  /**
   * Keeps the first `used[2r+1]` samples of each ray r (the counts the compositing kernel wrote
   * back) and packs them, so a second pass runs only on samples that reach the composite.
   */
  compact(used: Uint32Array): void {
    let next = 0;
    for (let r = 0; r < this.rays; r++) {
      const from = this.ranges[2 * r];
      const n = Math.min(used[2 * r + 1], this.ranges[2 * r + 1]);
      if (from !== next) {
        this.units.copyWithin(next * 3, from * 3, (from + n) * 3);
        this.dirs.copyWithin(next * 3, from * 3, (from + n) * 3);
        this.deltas.copyWithin(next, from, from + n);
      }
      this.ranges[2 * r] = next;
      this.ranges[2 * r + 1] = n;
      next += n;
    }
    this.samples = next;
  }

  clear(): void {
    this.rays = 0;
    this.samples = 0;
  }

  /**
   * Marches one ray (origin ray[0..2], unit direction ray[3..5]) and appends it with its
   * background and target colours. Call only while {@link hasRoom}.
   */
  add(ray: ArrayLike<number>, jitter: number, background: ArrayLike<number>, target: ArrayLike<number>): void {
    const r = this.rays++;
    const first = this.samples;
    const { stepSize, maxSamples } = this.march;
    const grid = this.grid;
    const [ox, oy, oz, dx, dy, dz] = [ray[0], ray[1], ray[2], ray[3], ray[4], ray[5]];
    let n = 0;
    if (intersectBox(ox, oy, oz, dx, dy, dz, grid.boundsMin, grid.boundsMax, this.box)) {
      const end = this.box[1];
      const u = this.unit;
      for (let t = this.box[0] + jitter * stepSize; t < end && n < maxSamples; t += stepSize) {
        const x = ox + t * dx, y = oy + t * dy, z = oz + t * dz;
        const cell = cellIndex(grid, x, y, z);
        if (cell < 0 || grid.occupied[cell] === 0) continue;
        if (!this.kernels.toUnit(x, y, z, u)) continue;
        const s = first + n;
        this.units[s * 3] = u[0];
        this.units[s * 3 + 1] = u[1];
        this.units[s * 3 + 2] = u[2];
        this.dirs[s * 3] = dx;
        this.dirs[s * 3 + 1] = dy;
        this.dirs[s * 3 + 2] = dz;
        this.deltas[s] = stepSize;
        n++;
      }
    }
    this.ranges[2 * r] = first;
    this.ranges[2 * r + 1] = n;
    for (let k = 0; k < 3; k++) {
      this.background[r * 3 + k] = background[k];
      this.target[r * 3 + k] = target[k];
      this.target64[r * 3 + k] = target[k];
    }
    this.samples += n;
  }
}
