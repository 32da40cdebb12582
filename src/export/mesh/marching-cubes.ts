import type { DensityGrid } from './density-grid.js';
import type { TriangleMesh } from './triangle-mesh.js';

/**
 * Marching cubes. The case table is not typed in: it is derived once from the cube's geometry.
 * For each of the 256 inside/outside corner patterns, every cube face contributes oriented
 * segments that close off its inside corners (on an ambiguous face the two inside corners are
 * kept apart, a rule that depends on the face alone, so neighbouring cubes agree and the surface
 * is watertight); the segments chain into loops, and each loop is fanned into triangles.
 *
 * Corners are numbered by bits (x, y, z) = (c & 1, c >> 1 & 1, c >> 2 & 1); edges by the lower
 * corner and an axis.
 */

interface Edge {
  from: number;
  to: number;
  axis: number;
}

const EDGES: Edge[] = [];
for (let axis = 0; axis < 3; axis++) {
  for (let c = 0; c < 8; c++) if (!(c & (1 << axis))) EDGES.push({ from: c, to: c | (1 << axis), axis });
}

function edgeBetween(a: number, b: number): number {
  const lo = Math.min(a, b), hi = Math.max(a, b);
  return EDGES.findIndex((e) => e.from === lo && e.to === hi);
}

/** Each face's corners counter-clockwise as seen from outside the cube. */
const FACES: number[][] = [];
for (let axis = 0; axis < 3; axis++) {
  const u = 1 << ((axis + 1) % 3), v = 1 << ((axis + 2) % 3), a = 1 << axis;
  for (const side of [0, 1]) {
    const base = side ? a : 0;
    const ring = [base, base | u, base | u | v, base | v]; // CCW seen from +axis
    FACES.push(side ? ring : ring.reverse());
  }
}

/** For each corner pattern, triangles as triples of cube-edge indices, outward (toward outside corners) winding. */
const CASES: number[][] = Array.from({ length: 256 }, (_, pattern) => buildCase(pattern));

function buildCase(pattern: number): number[] {
  const inside = (c: number): boolean => ((pattern >> c) & 1) === 1;
  const next = new Map<number, number>(); // segment start edge → end edge
  for (const ring of FACES) {
    const entries: number[] = [];
    const exits: number[] = [];
    for (let k = 0; k < 4; k++) {
      const a = ring[k], b = ring[(k + 1) % 4];
      if (inside(a) === inside(b)) continue;
      (inside(b) ? entries : exits).push(k);
    }
    // Pair each exit with the entry that opened its inside arc (walking backwards round the face).
    for (const exit of exits) {
      let entry = -1;
      for (let step = 0; step < 4 && entry < 0; step++) {
        const k = (exit - step + 4) % 4;
        if (entries.includes(k)) entry = k;
      }
      next.set(edgeBetween(ring[exit], ring[(exit + 1) % 4]), edgeBetween(ring[entry], ring[(entry + 1) % 4]));
    }
  }
  const triangles: number[] = [];
  const used = new Set<number>();
  for (const start of next.keys()) {
    if (used.has(start)) continue;
    const loop: number[] = [];
    for (let e = start; !used.has(e); e = next.get(e)!) {
      used.add(e);
      loop.push(e);
    }
    // The loop runs counter-clockwise round the inside region as seen from outside the cube, so
    // its right-hand normal points at the inside corners: reverse it for outward triangles.
    for (let i = 1; i + 1 < loop.length; i++) triangles.push(loop[0], loop[i + 1], loop[i]);
  }
  return triangles;
}

/**
 * Extracts the iso-surface `density = iso` from a density grid as an indexed, closed, manifold
 * triangle mesh (vertices shared between cells), wound so normals point from dense to empty.
 * Vertices are placed by linear interpolation along grid edges.
 */
export function marchingCubes(grid: DensityGrid, iso: number): TriangleMesh {
  const { nx, ny, nz, origin, spacing, values } = grid;
  const inside = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) inside[i] = values[i] >= iso ? 1 : 0;
  const sy = nx, sz = nx * ny;
  const cornerOffset = Array.from({ length: 8 }, (_, c) => (c & 1) + ((c >> 1) & 1) * sy + ((c >> 2) & 1) * sz);
  const axisStride = [1, sy, sz];

  const vertexOfEdge = new Map<number, number>();
  const positions: number[] = [];
  const indices: number[] = [];
  const vertexFor = (cell: number, edge: Edge): number => {
    const a = cell + cornerOffset[edge.from];
    const key = a * 3 + edge.axis;
    let vertex = vertexOfEdge.get(key);
    if (vertex === undefined) {
      const b = a + axisStride[edge.axis];
      const va = values[a], vb = values[b];
      const t = va === vb ? 0.5 : Math.min(1, Math.max(0, (iso - va) / (vb - va)));
      const i = a % nx, j = Math.floor(a / nx) % ny, k = Math.floor(a / sz);
      const p = [i, j, k];
      p[edge.axis] += t;
      vertex = positions.length / 3;
      positions.push(origin[0] + p[0] * spacing, origin[1] + p[1] * spacing, origin[2] + p[2] * spacing);
      vertexOfEdge.set(key, vertex);
    }
    return vertex;
  };

  for (let k = 0; k < nz - 1; k++) {
    for (let j = 0; j < ny - 1; j++) {
      let cell = nx * (j + ny * k);
      for (let i = 0; i < nx - 1; i++, cell++) {
        let pattern = 0;
        for (let c = 0; c < 8; c++) pattern |= inside[cell + cornerOffset[c]] << c;
        if (pattern === 0 || pattern === 255) continue;
        const triangles = CASES[pattern];
        for (let t = 0; t < triangles.length; t += 3) {
          const a = vertexFor(cell, EDGES[triangles[t]]);
          const b = vertexFor(cell, EDGES[triangles[t + 1]]);
          const c = vertexFor(cell, EDGES[triangles[t + 2]]);
          if (a !== b && b !== c && a !== c) indices.push(a, b, c);
        }
      }
    }
  }
  return { positions: new Float32Array(positions), indices: new Uint32Array(indices) };
}
