/**
 * The occupancy grid: a G³ grid over the field's bounds that says where density may be, so ray
 * marching skips empty space. It holds a decaying running max of sampled density per cell, a
 * "carved" flag for cells that the training masks prove empty (visual hull), and the bit the
 * marcher reads. The arrays may live in shared memory so all worker threads see one grid.
 */
export interface OccupancyGrid {
  resolution: number;
  boundsMin: [number, number, number];
  boundsMax: [number, number, number];
  /** Running max of σ per cell. */
  density: Float32Array;
  /** 1 = proven empty by the masks: never sampled, never occupied. */
  carved: Uint8Array;
  /** 1 = the marcher takes samples in this cell. */
  occupied: Uint8Array;
}

export function createOccupancyGrid(
  resolution: number, boundsMin: [number, number, number], boundsMax: [number, number, number],
  allocate: (bytes: number) => ArrayBufferLike = (bytes) => new ArrayBuffer(bytes),
): OccupancyGrid {
  const cells = resolution ** 3;
  const grid: OccupancyGrid = {
    resolution, boundsMin, boundsMax,
    density: new Float32Array(allocate(cells * 4)),
    carved: new Uint8Array(allocate(cells)),
    occupied: new Uint8Array(allocate(cells)),
  };
  grid.occupied.fill(1);
  return grid;
}

/** Index of the cell holding a world point, or −1 outside the bounds. */
export function cellIndex(grid: OccupancyGrid, x: number, y: number, z: number): number {
  const g = grid.resolution;
  const ix = Math.floor(((x - grid.boundsMin[0]) / (grid.boundsMax[0] - grid.boundsMin[0])) * g);
  const iy = Math.floor(((y - grid.boundsMin[1]) / (grid.boundsMax[1] - grid.boundsMin[1])) * g);
  const iz = Math.floor(((z - grid.boundsMin[2]) / (grid.boundsMax[2] - grid.boundsMin[2])) * g);
  if (ix < 0 || iy < 0 || iz < 0 || ix >= g || iy >= g || iz >= g) return -1;
  return ix + g * (iy + g * iz);
}

/** World position of a point inside cell `index` at fractional offsets (fx, fy, fz) ∈ [0,1)³. */
export function cellPoint(grid: OccupancyGrid, index: number, fx: number, fy: number, fz: number, out: Float64Array): void {
  const g = grid.resolution;
  const ix = index % g, iy = Math.floor(index / g) % g, iz = Math.floor(index / (g * g));
  for (let k = 0; k < 3; k++) {
    const i = k === 0 ? ix : k === 1 ? iy : iz;
    const f = k === 0 ? fx : k === 1 ? fy : fz;
    out[k] = grid.boundsMin[k] + ((i + f) / g) * (grid.boundsMax[k] - grid.boundsMin[k]);
  }
}

/** Marks the grid's cells occupied where their density passes `threshold` and they are not carved. */
export function refreshOccupied(grid: OccupancyGrid, threshold: number, from = 0, to = grid.occupied.length): number {
  let count = 0;
  for (let i = from; i < to; i++) {
    const on = grid.carved[i] === 0 && grid.density[i] > threshold ? 1 : 0;
    grid.occupied[i] = on;
    count += on;
  }
  return count;
}
