import type { Camera } from '../../core/camera.js';
import type { RgbaImage } from '../../core/image.js';
import type { MeshPart, TexturedMesh } from '../../eval/mesh.js';
import { keepLargestComponent } from '../../export/mesh/components.js';
import type { DensityGrid } from '../../export/mesh/density-grid.js';
import { marchingCubes } from '../../export/mesh/marching-cubes.js';
import { simplifyToBudget } from '../../export/mesh/simplify.js';
import { taubinSmooth } from '../../export/mesh/smooth.js';
import { compactMesh } from '../../export/mesh/triangle-mesh.js';
import { vertexNormals } from '../../export/mesh/normals.js';
import { invertAffine4 } from '../../core/mat4.js';
import { Head3dError } from '../../core/errors.js';
import { type DepthMap, nearestDepth, renderDepth } from './depth-map.js';
import type { HeadShape } from './head-shape.js';
import type { Palette } from './palette.js';
import { type ProxyColourOptions, paletteTexture, paletteUv, paletteWeights, photoTexture } from './proxy-colour.js';

export interface ProxyMeshOptions {
  /** Grid cells across the head's width (default 160). */
  resolution?: number;
  /** Smoothing passes on the marching-cubes surface (default 2). */
  smoothingIterations?: number;
  /** Triangle budget (default 60 000). */
  triangles?: number;
  /** Smallest cosine between a triangle's vertex normals and the input camera's view for the photo part (default 0.05). */
  minFacing?: number;
  /** Depth slack (world units) within which a vertex counts as seen by the input camera (default 0.004). */
  visibilityTolerance?: number;
  colour?: ProxyColourOptions;
  onStep?: (step: string) => void;
}

export const PROXY_MESH_DEFAULTS = { resolution: 160, smoothingIterations: 2, triangles: 60_000, minFacing: 0.05, visibilityTolerance: 0.004 };

/** Extent of the sampled box around the head centre, head-local units: x and z ±, y below/above. */
const BOX = { half: 0.45, below: 0.65, above: 0.45 };
/** The radiance field's bounds: geometry beyond them could not be fitted. */
const WORLD_LIMIT = 0.5;

/**
 * Turns the implicit head into a textured mesh in PanoHead's world, in two parts. The surface is
 * sampled on a grid, extracted with marching cubes, smoothed and simplified; triangles the input
 * camera sees face-on form the photo part, textured by projecting them into the crop (a copy of
 * the crop that fades to the palette at grazing angles); the rest form the palette part, whose
 * texture coordinates look up a small skin/hair/clothes blend texture. No UV unwrapping needed.
 */
export async function buildProxyMesh(shape: HeadShape, crop: RgbaImage, camera: Camera, palette: Palette, options: ProxyMeshOptions = {}): Promise<{ mesh: TexturedMesh; triangles: number; photoTriangles: number }> {
  const o = { ...PROXY_MESH_DEFAULTS, ...options };
  const step = o.onStep ?? (() => {});
  step('sampling the head surface');
  const grid = sampleShape(shape, o.resolution);
  step('extracting the mesh');
  const raw = marchingCubes(grid, 0);
  if (raw.indices.length === 0) throw new Head3dError('proxy: the head proxy came out empty', { hint: 'check that crop.png has a foreground matte (alpha)' });
  const { mesh: largest } = keepLargestComponent(raw);
  const smooth = o.smoothingIterations > 0 ? taubinSmooth(largest, { iterations: o.smoothingIterations }) : largest;
  const simplified = await simplifyToBudget(smooth, o.triangles);
  const mesh = compactMesh({ positions: smooth.positions, indices: simplified.indices });
  step('texturing');
  const depth = renderDepth(mesh.positions, mesh.indices, camera);
  const seen = projectVertices(mesh.positions, camera, depth, o.visibilityTolerance, vertexNormals(mesh.positions, mesh.indices), o.minFacing);
  const photo: number[] = [], rest: number[] = [];
  const idx = mesh.indices;
  for (let t = 0; t < idx.length; t += 3) {
    const all = seen.ok[idx[t]] && seen.ok[idx[t + 1]] && seen.ok[idx[t + 2]];
    (all ? photo : rest).push(idx[t], idx[t + 1], idx[t + 2]);
  }
  const parts: MeshPart[] = [];
  if (photo.length > 0) {
    parts.push(subMesh(mesh.positions, photo, (v) => [seen.u[v] / crop.width, seen.v[v] / crop.height], photoTexture(shape, crop, camera, depth, palette, o.colour)));
  }
  if (rest.length > 0) {
    const p = mesh.positions;
    parts.push(subMesh(p, rest, (v) => paletteUv(paletteWeights(shape, p[v * 3], p[v * 3 + 1], p[v * 3 + 2])), paletteTexture(palette)));
  }
  return { mesh: { parts }, triangles: idx.length / 3, photoTriangles: photo.length / 3 };
}

/** Pixel position of every vertex in the input camera, and whether it is seen there face-on. */
function projectVertices(positions: Float32Array, camera: Camera, depth: DepthMap, tolerance: number, normals: Float32Array, minFacing: number) {
  const n = positions.length / 3;
  const u = new Float32Array(n), v = new Float32Array(n), ok = new Uint8Array(n);
  const m = invertAffine4(camera.cam2world);
  const { fx, fy, cx, cy, width, height } = camera.intrinsics;
  const eye = [camera.cam2world[3], camera.cam2world[7], camera.cam2world[11]];
  for (let i = 0; i < n; i++) {
    const x = positions[i * 3], y = positions[i * 3 + 1], z = positions[i * 3 + 2];
    const Z = m[8] * x + m[9] * y + m[10] * z + m[11];
    u[i] = (fx * (m[0] * x + m[1] * y + m[2] * z + m[3])) / Z + cx;
    v[i] = (fy * (m[4] * x + m[5] * y + m[6] * z + m[7])) / Z + cy;
    const vx = eye[0] - x, vy = eye[1] - y, vz = eye[2] - z;
    const facing = (normals[i * 3] * vx + normals[i * 3 + 1] * vy + normals[i * 3 + 2] * vz) / Math.hypot(vx, vy, vz);
    ok[i] = Z > 0 && u[i] >= 0 && v[i] >= 0 && u[i] < width && v[i] < height && facing > minFacing && Z <= nearestDepth(depth, u[i], v[i]) + tolerance ? 1 : 0;
  }
  return { u, v, ok };
}

/** A mesh part over the listed triangles with its own compact vertex buffer and UVs. */
function subMesh(positions: Float32Array, triangles: number[], uvOf: (vertex: number) => [number, number], texture: RgbaImage): MeshPart {
  const compact = compactMesh({ positions, indices: Uint32Array.from(triangles) });
  const uvs = new Float32Array((compact.positions.length / 3) * 2);
  compact.remap.forEach((j, i) => {
    if (j < 0) return;
    const [a, b] = uvOf(i);
    uvs[j * 2] = a;
    uvs[j * 2 + 1] = b;
  });
  return { positions: compact.positions, uvs, indices: compact.indices, texture };
}

/** Samples −distance on a grid around the head (inside ≥ 0), with an empty layer all round so the surface closes. */
export function sampleShape(shape: HeadShape, resolution: number): DensityGrid {
  const { centre, scale } = shape.frame;
  const lo = [centre[0] - BOX.half * scale, centre[1] - BOX.below * scale, centre[2] - BOX.half * scale].map((v) => Math.max(-WORLD_LIMIT, v));
  const hi = [centre[0] + BOX.half * scale, centre[1] + BOX.above * scale, centre[2] + BOX.half * scale].map((v) => Math.min(WORLD_LIMIT, v));
  const spacing = (2 * BOX.half * scale) / resolution;
  const [nx, ny, nz] = [0, 1, 2].map((k) => Math.ceil((hi[k] - lo[k]) / spacing) + 3);
  const origin: [number, number, number] = [lo[0] - spacing, lo[1] - spacing, lo[2] - spacing];
  const values = new Float32Array(nx * ny * nz).fill(-1);
  for (let k = 1; k < nz - 1; k++) {
    const z = origin[2] + k * spacing;
    for (let j = 1; j < ny - 1; j++) {
      const y = origin[1] + j * spacing;
      let index = nx * (j + ny * k) + 1;
      for (let i = 1; i < nx - 1; i++, index++) values[index] = -shape.distance(origin[0] + i * spacing, y, z);
    }
  }
  return { nx, ny, nz, origin, spacing, values };
}
