/**
 * An indexed triangle mesh: `positions` holds xyz per vertex, `indices` three vertex indices per
 * triangle, counter-clockwise seen from outside (so the right-hand normal points outward).
 */
export interface TriangleMesh {
  positions: Float32Array;
  indices: Uint32Array;
}

export function meshTriangleCount(mesh: TriangleMesh): number {
  return mesh.indices.length / 3;
}

export function meshVertexCount(mesh: TriangleMesh): number {
  return mesh.positions.length / 3;
}

/** Total surface area. */
export function meshArea(mesh: TriangleMesh): number {
  let area = 0;
  forEachTriangle(mesh, (ax, ay, az, bx, by, bz, cx, cy, cz) => {
    const ux = bx - ax, uy = by - ay, uz = bz - az;
    const vx = cx - ax, vy = cy - ay, vz = cz - az;
    const nx = uy * vz - uz * vy, ny = uz * vx - ux * vz, nz = ux * vy - uy * vx;
    area += 0.5 * Math.sqrt(nx * nx + ny * ny + nz * nz);
  });
  return area;
}

/** Enclosed volume by the divergence theorem; positive for a closed mesh with outward winding. */
export function meshSignedVolume(mesh: TriangleMesh): number {
  let volume = 0;
  forEachTriangle(mesh, (ax, ay, az, bx, by, bz, cx, cy, cz) => {
    volume += ax * (by * cz - bz * cy) - ay * (bx * cz - bz * cx) + az * (bx * cy - by * cx);
  });
  return volume / 6;
}

/** Number of edges used by only one triangle (0 for a closed mesh) and by more than two (0 for a manifold one). */
export function meshEdgeDefects(mesh: TriangleMesh): { boundaryEdges: number; nonManifoldEdges: number } {
  const counts = new Map<number, number>();
  const n = meshVertexCount(mesh);
  const idx = mesh.indices;
  for (let t = 0; t < idx.length; t += 3) {
    for (let e = 0; e < 3; e++) {
      const a = idx[t + e], b = idx[t + ((e + 1) % 3)];
      const key = a < b ? a * n + b : b * n + a;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  let boundaryEdges = 0, nonManifoldEdges = 0;
  for (const c of counts.values()) {
    if (c === 1) boundaryEdges++;
    else if (c > 2) nonManifoldEdges++;
  }
  return { boundaryEdges, nonManifoldEdges };
}

/** Drops vertices no triangle uses and renumbers the rest; `remap[old]` is the new index or −1. */
export function compactMesh(mesh: TriangleMesh): TriangleMesh & { remap: Int32Array } {
  const n = meshVertexCount(mesh);
  const remap = new Int32Array(n).fill(-1);
  let next = 0;
  for (const i of mesh.indices) if (remap[i] < 0) remap[i] = next++;
  const positions = new Float32Array(next * 3);
  for (let i = 0; i < n; i++) {
    const j = remap[i];
    if (j >= 0) positions.set(mesh.positions.subarray(i * 3, i * 3 + 3), j * 3);
  }
  const indices = new Uint32Array(mesh.indices.length);
  for (let k = 0; k < indices.length; k++) indices[k] = remap[mesh.indices[k]];
  return { positions, indices, remap };
}

/** Axis-aligned bounds of the vertices. */
export function meshBounds(positions: Float32Array): { min: [number, number, number]; max: [number, number, number] } {
  const min: [number, number, number] = [Infinity, Infinity, Infinity];
  const max: [number, number, number] = [-Infinity, -Infinity, -Infinity];
  for (let i = 0; i < positions.length; i += 3) {
    for (let k = 0; k < 3; k++) {
      const v = positions[i + k];
      if (v < min[k]) min[k] = v;
      if (v > max[k]) max[k] = v;
    }
  }
  return { min, max };
}

function forEachTriangle(
  mesh: TriangleMesh,
  visit: (ax: number, ay: number, az: number, bx: number, by: number, bz: number, cx: number, cy: number, cz: number) => void,
): void {
  const p = mesh.positions;
  const idx = mesh.indices;
  for (let t = 0; t < idx.length; t += 3) {
    const a = idx[t] * 3, b = idx[t + 1] * 3, c = idx[t + 2] * 3;
    visit(p[a], p[a + 1], p[a + 2], p[b], p[b + 1], p[b + 2], p[c], p[c + 1], p[c + 2]);
  }
}
