/**
 * Area-weighted vertex normals. `weldGroup[v]` (optional) names the geometric vertex that vertex v
 * is a copy of (UV seams split vertices); copies share one normal so seams do not show in shading.
 */
export function vertexNormals(positions: Float32Array, indices: Uint32Array, weldGroup?: Uint32Array): Float32Array {
  const n = positions.length / 3;
  const group = (v: number): number => (weldGroup ? weldGroup[v] : v);
  let groups = n;
  if (weldGroup) for (let v = 0; v < n; v++) groups = Math.max(groups, weldGroup[v] + 1);
  const sums = new Float64Array(groups * 3);
  for (let t = 0; t < indices.length; t += 3) {
    const a = indices[t] * 3, b = indices[t + 1] * 3, c = indices[t + 2] * 3;
    const ux = positions[b] - positions[a], uy = positions[b + 1] - positions[a + 1], uz = positions[b + 2] - positions[a + 2];
    const vx = positions[c] - positions[a], vy = positions[c + 1] - positions[a + 1], vz = positions[c + 2] - positions[a + 2];
    const nx = uy * vz - uz * vy, ny = uz * vx - ux * vz, nz = ux * vy - uy * vx; // length = 2·area
    for (const v of [indices[t], indices[t + 1], indices[t + 2]]) {
      const g = group(v) * 3;
      sums[g] += nx;
      sums[g + 1] += ny;
      sums[g + 2] += nz;
    }
  }
  const normals = new Float32Array(n * 3);
  for (let v = 0; v < n; v++) {
    const g = group(v) * 3;
    const length = Math.hypot(sums[g], sums[g + 1], sums[g + 2]);
    if (length > 0) {
      normals[v * 3] = sums[g] / length;
      normals[v * 3 + 1] = sums[g + 1] / length;
      normals[v * 3 + 2] = sums[g + 2] / length;
    } else {
      normals[v * 3 + 1] = 1;
    }
  }
  return normals;
}
