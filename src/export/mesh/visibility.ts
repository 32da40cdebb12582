import type { DensityGrid } from './density-grid.js';

/**
 * For every grid vertex, the largest of its six axis-direction transmittances from the grid
 * boundary up to (not including) itself: how well it can be seen from outside. Each vertex
 * stands for a slab one cell thick, with alpha 1 − e^{−σ·h}.
 */
export function axisVisibility(grid: DensityGrid, alpha: Float32Array = cellAlpha(grid)): Float32Array {
  const { nx, ny, nz } = grid;
  const out = new Float32Array(alpha.length);
  const strides = [1, nx, nx * ny];
  const dims = [nx, ny, nz];
  for (let axis = 0; axis < 3; axis++) {
    const stride = strides[axis], n = dims[axis];
    const others = [0, 1, 2].filter((a) => a !== axis);
    for (let u = 0; u < dims[others[0]]; u++) {
      for (let v = 0; v < dims[others[1]]; v++) {
        const start = u * strides[others[0]] + v * strides[others[1]];
        let t = 1;
        for (let m = 0; m < n; m++) {
          const index = start + m * stride;
          if (t > out[index]) out[index] = t;
          t *= 1 - alpha[index];
        }
        t = 1;
        for (let m = n - 1; m >= 0; m--) {
          const index = start + m * stride;
          if (t > out[index]) out[index] = t;
          t *= 1 - alpha[index];
        }
      }
    }
  }
  return out;
}

/** Alpha of one cell-thick slab at every vertex: 1 − e^{−σ·h}. */
export function cellAlpha(grid: DensityGrid): Float32Array {
  const alpha = new Float32Array(grid.values.length);
  for (let i = 0; i < alpha.length; i++) alpha[i] = 1 - Math.exp(-Math.max(0, grid.values[i]) * grid.spacing);
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
  for (let i = 0; i < values.length; i++) values[i] = 1 - visibility[i] * Math.sqrt(1 - alpha[i]);
  return { ...grid, values };
}
