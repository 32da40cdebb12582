import { MeshoptSimplifier } from 'meshoptimizer';
import { Head3dError } from '../../core/errors.js';
import type { TriangleMesh } from './triangle-mesh.js';

/** The part of meshoptimizer's simplifier this module uses (injectable for tests). */
export type Simplifier = Pick<typeof MeshoptSimplifier, 'ready' | 'simplify'>;

export interface SimplifyResult {
  /** Triangles over the input's vertex buffer (unused vertices are not removed). */
  indices: Uint32Array;
  /** meshoptimizer's error estimate, relative to the mesh extent. */
  relativeError: number;
}

/**
 * Reduces a mesh to at most `maxTriangles` with meshoptimizer's edge-collapse simplifier (no
 * error limit: the budget decides). Vertices that share a position but differ in other
 * attributes (UV seams) are kept as seams. A mesh already within budget is returned unchanged.
 * Throws a Head3dError when the simplifier cannot get down to the budget.
 */
export async function simplifyToBudget(
  mesh: TriangleMesh,
  maxTriangles: number,
  simplifier: Simplifier = MeshoptSimplifier,
): Promise<SimplifyResult> {
  if (mesh.indices.length / 3 <= maxTriangles) return { indices: mesh.indices, relativeError: 0 };
  await simplifier.ready;
  let [indices, relativeError] = simplifier.simplify(mesh.indices, mesh.positions, 3, maxTriangles * 3, 1);
  if (indices.length / 3 > maxTriangles) {
    // Permissive lets collapses cross attribute seams, the last resort before giving up.
    [indices, relativeError] = simplifier.simplify(mesh.indices, mesh.positions, 3, maxTriangles * 3, 1, ['Permissive']);
  }
  if (indices.length / 3 > maxTriangles) {
    throw new Head3dError(`simplify: cannot reduce the mesh to ${maxTriangles} triangles (the least reached is ${indices.length / 3})`, {
      hint: 'ask for a larger triangle budget',
    });
  }
  return { indices, relativeError };
}
