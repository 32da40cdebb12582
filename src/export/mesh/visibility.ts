import type { DensityGrid } from './density-grid.js';

/**
 * For every grid vertex, the largest of its six axis-direction transmittances from the grid
 * boundary up to (not including) itself: how well it can be seen from outside. Each vertex
 * stands for a slab one cell thick, with alpha 1 − e^{−σ·h}.
 */
export function axisVisibility(grid: DensityGrid, alpha: Float32Array = cellAlpha(grid)): Float32Array {
  const { nx, ny, nz } = grid;
  const out = new Float32Array(alpha.length);
  const plane = nx * ny;
  // Every sweep walks memory in order: x along rows; y and z carry one running transmittance per
  // row position or per column while whole rows or planes are visited in sequence.
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      const row = k * plane + j * nx;
      let t = 1;
      for (let i = 0; i < nx; i++) {
        if (t > out[row + i]) out[row + i] = t;
        t *= 1 - alpha[row + i];
      }
      t = 1;
      for (let i = nx - 1; i >= 0; i--) {
        if (t > out[row + i]) out[row + i] = t;
        t *= 1 - alpha[row + i];
      }
    }
  }
  const rowT = new Float64Array(nx);
  for (let k = 0; k < nz; k++) {
    for (const [from, to, step] of [[0, ny, 1], [ny - 1, -1, -1]]) {
      rowT.fill(1);
      for (let j = from; j !== to; j += step) {
        const row = k * plane + j * nx;
        for (let i = 0; i < nx; i++) {
          const t = rowT[i];
          if (t > out[row + i]) out[row + i] = t;
          rowT[i] = t * (1 - alpha[row + i]);
        }
      }
    }
  }
  const planeT = new Float64Array(plane);
  for (const [from, to, step] of [[0, nz, 1], [nz - 1, -1, -1]]) {
    planeT.fill(1);
    for (let k = from; k !== to; k += step) {
      const base = k * plane;
      for (let c = 0; c < plane; c++) {
        const t = planeT[c];
        if (t > out[base + c]) out[base + c] = t;
        planeT[c] = t * (1 - alpha[base + c]);
      }
    }
  }
  return out;
}

/** Alpha of one cell-thick slab at every vertex: 1 − e^{−σ·h}. */
export function cellAlpha(grid: DensityGrid): Float32Array {
  const alpha = new Float32Array(grid.values.length);
  const h = grid.spacing;
  for (let i = 0; i < alpha.length; i++) {
    const sigma = grid.values[i];
    if (sigma > 0) alpha[i] = 1 - Math.exp(-sigma * h); // most of the grid is empty: skip exp there
  }
  return alpha;
}

/**
 * The grid's occlusion at each vertex (the middle of its slab), 1 − axisVisibility·√(1 − α): 0 where a vertex is seen clearly from outside along
 * some axis, rising to 1 behind opaque matter. Its 0.5 level set is the surface a viewer sees
 * (the rendered opacity crosses one half there), whatever the field holds behind it: the
 * unconstrained density inside a fitted head (cavities, inner shells) is all occluded and drops
 * out, and a shell made of many thin, individually faint layers still counts once it is opaque.
 */
export function occlusionGrid(grid: DensityGrid): DensityGrid {
  const alpha = cellAlpha(grid);
  const visibility = axisVisibility(grid, alpha);
  const values = new Float32Array(visibility.length);
  // Measured at the vertex itself, half-way through its own slab: T · √(1 − α).
  for (let i = 0; i < values.length; i++) values[i] = 1 - (alpha[i] > 0 ? visibility[i] * Math.sqrt(1 - alpha[i]) : visibility[i]);
  return { ...grid, values };
}
