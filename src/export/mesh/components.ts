import { type TriangleMesh, compactMesh } from './triangle-mesh.js';

/**
 * Keeps the connected component with the most triangles and drops the rest (floaters, inner
 * shells), returning a compacted mesh and how many components there were.
 */
export function keepLargestComponent(mesh: TriangleMesh): { mesh: TriangleMesh; components: number } {
  const n = mesh.positions.length / 3;
  const parent = new Int32Array(n);
  for (let i = 0; i < n; i++) parent[i] = i;
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]];
      i = parent[i];
    }
    return i;
  };
  const idx = mesh.indices;
  for (let t = 0; t < idx.length; t += 3) {
    const a = find(idx[t]);
    for (let e = 1; e < 3; e++) {
      const b = find(idx[t + e]);
      if (a !== b) parent[b] = a;
    }
  }
  const triangles = new Map<number, number>();
  for (let t = 0; t < idx.length; t += 3) {
    const root = find(idx[t]);
    triangles.set(root, (triangles.get(root) ?? 0) + 1);
  }
  let best = -1, bestCount = -1;
  for (const [root, count] of triangles) if (count > bestCount) [best, bestCount] = [root, count];
  if (triangles.size <= 1) return { mesh, components: triangles.size };
  const kept = new Uint32Array(bestCount * 3);
  let k = 0;
  for (let t = 0; t < idx.length; t += 3) {
    if (find(idx[t]) !== best) continue;
    kept[k++] = idx[t];
    kept[k++] = idx[t + 1];
    kept[k++] = idx[t + 2];
  }
  const { positions, indices } = compactMesh({ positions: mesh.positions, indices: kept });
  return { mesh: { positions, indices }, components: triangles.size };
}
