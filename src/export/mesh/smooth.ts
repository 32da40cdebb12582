import type { TriangleMesh } from './triangle-mesh.js';

export interface TaubinOptions {
  /** λ|μ passes (default 5). */
  iterations?: number;
  /** Shrinking step (default 0.5). */
  lambda?: number;
  /** Inflating step, negative and slightly larger than λ in magnitude (default −0.53). */
  mu?: number;
}

export const TAUBIN_DEFAULTS: Required<TaubinOptions> = { iterations: 5, lambda: 0.5, mu: -0.53 };

/**
 * Taubin λ|μ smoothing with the uniform (umbrella) Laplacian: removes the marching-cubes
 * staircase without the shrinkage of plain Laplacian smoothing. Returns new positions.
 */
export function taubinSmooth(mesh: TriangleMesh, options: TaubinOptions = {}): TriangleMesh {
  const { iterations, lambda, mu } = { ...TAUBIN_DEFAULTS, ...options };
  const n = mesh.positions.length / 3;
  const { offsets, neighbours } = vertexNeighbours(mesh.indices, n);
  let current = Float32Array.from(mesh.positions);
  let scratch = new Float32Array(current.length);
  const step = (factor: number): void => {
    for (let v = 0; v < n; v++) {
      const start = offsets[v], end = offsets[v + 1];
      const count = end - start;
      for (let k = 0; k < 3; k++) {
        const here = current[v * 3 + k];
        if (count === 0) {
          scratch[v * 3 + k] = here;
          continue;
        }
        let sum = 0;
        for (let e = start; e < end; e++) sum += current[neighbours[e] * 3 + k];
        scratch[v * 3 + k] = here + factor * (sum / count - here);
      }
    }
    [current, scratch] = [scratch, current];
  };
  for (let i = 0; i < iterations; i++) {
    step(lambda);
    step(mu);
  }
  return { positions: current, indices: mesh.indices };
}

/** Compressed adjacency: the neighbours of v are `neighbours[offsets[v] .. offsets[v+1])` (each edge once per side). */
export function vertexNeighbours(indices: Uint32Array, vertexCount: number): { offsets: Uint32Array; neighbours: Uint32Array } {
  // Each directed half-edge a→b of a triangle gives b as a neighbour of a; in a closed manifold
  // mesh every undirected edge shows up once in each direction, so each neighbour appears once.
  const offsets = new Uint32Array(vertexCount + 1);
  for (let t = 0; t < indices.length; t += 3) for (let e = 0; e < 3; e++) offsets[indices[t + e] + 1]++;
  for (let v = 0; v < vertexCount; v++) offsets[v + 1] += offsets[v];
  const fill = offsets.slice(0, vertexCount);
  const neighbours = new Uint32Array(indices.length);
  for (let t = 0; t < indices.length; t += 3) {
    for (let e = 0; e < 3; e++) neighbours[fill[indices[t + e]]++] = indices[t + ((e + 1) % 3)];
  }
  return { offsets, neighbours };
}
