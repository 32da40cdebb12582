import { Head3dError } from '../../core/errors.js';
import type { RgbaImage } from '../../core/image.js';
import { METRES_PER_UNIT, PANOHEAD_HEAD_HEIGHT } from '../../eval/normalize-head.js';
import type { FieldSampler } from '../field-sampler.js';
import { bakeBaseColor } from './bake-texture.js';
import { calibrateIso } from './calibrate-iso.js';
import { keepLargestComponent } from './components.js';
import { sampleDensityGrid } from './density-grid.js';
import { marchingCubes } from './marching-cubes.js';
import { occlusionGrid } from './visibility.js';
import { vertexNormals } from './normals.js';
import { type Simplifier, simplifyToBudget } from './simplify.js';
import { taubinSmooth } from './smooth.js';
import { surfaceDepths } from './surface-depth.js';
import { type TriangleMesh, compactMesh } from './triangle-mesh.js';
import { type AtlasMesh, type Watlas, buildUvAtlas } from './uv-atlas.js';

/** Where the exported model's origin sits: the head centre, or the base of the neck. */
export type Pivot = 'center' | 'neck';

export interface MeshExportOptions {
  /**
   * Density grid cells along the longest side of the field's bounds (default 320: on the Lee
   * Perry-Smith field, 256 leaves the mesh 2.2 dB below the field's held-out PSNR and 320 1.6 dB,
   * for about 1.5× the sampling time).
   */
  resolution?: number;
  /**
   * Density (σ per world unit) of the extracted surface, or 'auto' (the default): the density at
   * which the field's rendered opacity crosses 0.5, found by `calibrateIso`.
   */
  iso?: number | 'auto';
  /**
   * Which level set becomes the mesh (default 'opacity'): 'opacity' extracts where the occlusion
   * seen from outside along the axes crosses 0.5 (`occlusionGrid`), ignoring whatever density is
   * hidden inside; 'density' extracts σ = iso directly (exact for clean analytic fields). The iso
   * level steers where the grid is refined either way.
   */
  surface?: 'opacity' | 'density';
  /**
   * Occlusion level of the 'opacity' surface, or 'auto' (the default, `autoOpacityLevel`). A
   * fitted field's edge is soft and its rendered silhouette is set by grazing rays, which cross
   * more of the soft fringe than rays meeting the surface head-on, so the level sits well below
   * 0.5; it also falls as the grid gets finer, because each vertex's own slab adds less.
   */
  opacity?: number | 'auto';
  /** Taubin λ|μ smoothing passes on the marching-cubes mesh (default 3; 0 = none). */
  smoothingIterations?: number;
  /** Triangle budget of LOD0 (default 30 000). */
  triangles?: number;
  /** Triangle fraction of each LOD relative to LOD0, LOD0 first (default [1, 0.5, 0.25]). */
  lods?: number[];
  /** Side of the square base-colour texture in texels, a power of two (default 2048). */
  textureSize?: number;
  /** Texels between UV charts (default 4). */
  padding?: number;
  /**
   * Fraction of `textureSize` at which colour is evaluated and the atlas packed (default 0.5); the
   * bake is resized to `textureSize` (see `bakeBaseColor`).
   */
  bakeScale?: number;
  /**
   * Where along each texel's normal its colour is read (default 'median'): 'median' at the depth
   * where a head-on ray's transmittance through the sampled density falls to one half
   * (`surfaceDepths`), which is what the field shows there; 'mesh' on the mesh itself.
   */
  colorFrom?: 'median' | 'mesh';
  /** Origin of the exported model (default 'neck'). */
  pivot?: Pivot;
  /** Called at the start of every stage with its name. */
  onStage?: (stage: MeshExportStage) => void;
  /** meshoptimizer's simplifier (default: the installed `meshoptimizer`). */
  simplifier?: Simplifier;
  /** watlas (default: the installed `watlas`). */
  watlas?: Watlas;
}

export type MeshExportStage = 'calibrate' | 'sample' | 'extract' | 'clean' | 'simplify' | 'unwrap' | 'bake' | 'lods';

export const MESH_EXPORT_DEFAULTS = {
  resolution: 320,
  iso: 'auto' as number | 'auto',
  surface: 'opacity' as 'opacity' | 'density',
  opacity: 'auto' as number | 'auto',
  smoothingIterations: 3,
  triangles: 30_000,
  lods: [1, 0.5, 0.25],
  textureSize: 2048,
  padding: 4,
  bakeScale: 0.5,
  colorFrom: 'median' as 'median' | 'mesh',
  pivot: 'neck' as Pivot,
} satisfies Omit<Required<MeshExportOptions>, 'onStage' | 'simplifier' | 'watlas'>;

/**
 * The occlusion level whose mesh best reproduces a fitted field's held-out renders at a grid
 * resolution: 0.1 · (256 / resolution)^0.8 from 256 cells up, 0.1 below. Measured, not derived:
 * on the Lee Perry-Smith field (bench/export.ts) the best levels were 0.1 at 256 cells, 0.085 at
 * 320 and about 0.07 at 384, each within ±0.01 of a sharp optimum (±0.02 costs 0.3–1.5 dB).
 */
export function autoOpacityLevel(resolution: number): number {
  return resolution <= 256 ? 0.1 : 0.1 * (256 / resolution) ** 0.8;
}

/** Smallest triangle budget accepted for any LOD: below this a head is not recognisable. */
export const MIN_LOD_TRIANGLES = 64;

/** One level of detail, in glTF's frame: metres, +Y up, face toward +Z, origin at the pivot. */
export interface MeshLod {
  positions: Float32Array;
  normals: Float32Array;
  /** glTF convention, (0, 0) = top-left of the base-colour texture; shared by all LODs. */
  uvs: Float32Array;
  indices: Uint32Array;
  /** meshoptimizer's error estimate relative to the mesh extent (0 when not simplified). */
  relativeError: number;
}

export interface MeshExport {
  lods: MeshLod[];
  /** Base-colour texture, sRGB, opaque. */
  baseColor: RgbaImage;
  /** Translation applied before scaling to metres: the pivot, in world units. */
  pivotWorld: [number, number, number];
  /** The iso level used (calibrated when the option was 'auto'). */
  iso: number;
  stats: {
    gridResolution: [number, number, number];
    /** Occlusion level of the extracted surface ('opacity' surfaces only). */
    opacityLevel?: number;
    marchingCubesTriangles: number;
    components: number;
    charts: number;
    textureCoverage: number;
    seconds: Record<MeshExportStage, number>;
  };
}

/**
 * Row-major 4×4 transform from the exported glTF frame (metres, origin at the pivot) back into
 * PanoHead's world units: x_world = x_gltf / METRES_PER_UNIT + pivot. Use it to compare an
 * exported mesh with the views or the scan the field came from.
 */
export function gltfToWorldMatrix(pivotWorld: readonly [number, number, number]): number[] {
  const s = 1 / METRES_PER_UNIT;
  return [s, 0, 0, pivotWorld[0], 0, s, 0, pivotWorld[1], 0, 0, s, pivotWorld[2], 0, 0, 0, 1];
}

/** The pivot of an export, in PanoHead world units. */
export function pivotPoint(pivot: Pivot): [number, number, number] {
  return pivot === 'neck' ? [0, -PANOHEAD_HEAD_HEIGHT / 2, 0] : [0, 0, 0];
}

/**
 * Turns a radiance field into a textured, game-ready head mesh: iso level calibrated against the
 * field's rendered opacity (unless given) → density on a grid → marching cubes at `iso` (or the
 * occlusion level) → largest component → Taubin smoothing → meshoptimizer down to the triangle
 * budget → xatlas UV atlas → base colour baked from `field.color` at half resolution, read at
 * each texel's median depth along its normal and seen head-on → LODs simplified from LOD0
 * (sharing its UVs and texture) → metres with the chosen pivot.
 *
 * @example
 * const result = await exportMesh(field, { triangles: 30_000, textureSize: 2048, pivot: 'neck' });
 * const document = createMeshDocument(result);
 */
export async function exportMesh(field: FieldSampler, options: MeshExportOptions = {}): Promise<MeshExport> {
  const o = { ...MESH_EXPORT_DEFAULTS, ...options };
  checkMeshExportOptions(o);
  const seconds = { calibrate: 0, sample: 0, extract: 0, clean: 0, simplify: 0, unwrap: 0, bake: 0, lods: 0 };
  let stageStart = performance.now();
  let current: MeshExportStage | undefined;
  const stage = (name: MeshExportStage): void => {
    const now = performance.now();
    if (current) seconds[current] = (now - stageStart) / 1000;
    current = name;
    stageStart = now;
    o.onStage?.(name);
  };

  stage('calibrate');
  const iso = o.iso === 'auto' ? calibrateIso(field).iso : o.iso;
  stage('sample');
  const grid = sampleDensityGrid(field, { resolution: o.resolution, refineAround: iso });
  stage('extract');
  const opacity = o.opacity === 'auto' ? autoOpacityLevel(o.resolution) : o.opacity;
  const raw = o.surface === 'opacity' ? marchingCubes(occlusionGrid(grid), opacity) : marchingCubes(grid, iso);
  if (raw.indices.length === 0) {
    throw new Head3dError(`export: the field has no surface at density ${iso}`, { hint: 'lower the iso level, or check that the field was fitted' });
  }
  stage('clean');
  const { mesh: largest, components } = keepLargestComponent(raw);
  const smooth = o.smoothingIterations > 0 ? taubinSmooth(largest, { iterations: o.smoothingIterations }) : largest;
  stage('simplify');
  const simplified = await simplifyToBudget(smooth, o.triangles, o.simplifier);
  const lod0 = compactMesh({ positions: smooth.positions, indices: simplified.indices });
  stage('unwrap');
  // Packed at the bake's resolution (fewer, faster packing passes); the UVs are resolution-free.
  const bakeSize = Math.round(o.textureSize * o.bakeScale);
  const atlas = await buildUvAtlas(lod0, { textureSize: bakeSize, padding: Math.max(1, Math.round(o.padding * o.bakeScale)), watlas: o.watlas });
  stage('bake');
  const normals = vertexNormals(atlas.positions, atlas.indices, atlas.sourceVertex);
  const depths = o.colorFrom === 'median' ? surfaceDepths(grid, atlas.positions, normals) : undefined;
  const { image: baseColor, coverage } = bakeBaseColor(atlas, field, {
    textureSize: o.textureSize, bakeScale: o.bakeScale, dilation: Math.max(1, Math.round(16 * o.bakeScale)), normals, depths,
  });
  stage('lods');
  const pivotWorld = pivotPoint(o.pivot);
  const lods: MeshLod[] = [];
  const lod0Triangles = atlas.indices.length / 3;
  for (const ratio of o.lods) {
    const budget = Math.max(1, Math.floor(lod0Triangles * ratio));
    const { indices, relativeError } =
      ratio >= 1 ? { indices: atlas.indices, relativeError: simplified.relativeError } : await simplifyToBudget(atlas, budget, o.simplifier);
    lods.push(lodInGltfFrame(atlas, indices, relativeError, pivotWorld));
  }
  seconds.lods = (performance.now() - stageStart) / 1000;
  return {
    lods,
    baseColor,
    pivotWorld,
    iso,
    stats: {
      gridResolution: [grid.nx, grid.ny, grid.nz],
      opacityLevel: o.surface === 'opacity' ? opacity : undefined,
      marchingCubesTriangles: raw.indices.length / 3,
      components,
      charts: atlas.charts,
      textureCoverage: coverage,
      seconds,
    },
  };
}

/**
 * Throws a Head3dError for options no export can satisfy (an impossible triangle budget, a bad
 * texture size, malformed LOD ratios), so callers can refuse them before any heavy work.
 */
export function checkMeshExportOptions(options: MeshExportOptions): void {
  const o = { ...MESH_EXPORT_DEFAULTS, ...options };
  const fail = (message: string, hint?: string): never => {
    throw new Head3dError(`export: ${message}`, { hint });
  };
  if (!Number.isInteger(o.resolution) || o.resolution < 8 || o.resolution > 1024) fail(`grid resolution must be an integer in 8..1024 (got ${o.resolution})`);
  if (o.iso !== 'auto' && (!(o.iso > 0) || !Number.isFinite(o.iso))) fail(`iso level must be a positive density or "auto" (got ${o.iso})`);
  if (!Number.isInteger(o.smoothingIterations) || o.smoothingIterations < 0) fail(`smoothing iterations must be a non-negative integer`);
  if (!Number.isInteger(o.textureSize) || o.textureSize < 64 || o.textureSize > 8192 || (o.textureSize & (o.textureSize - 1)) !== 0) {
    fail(`texture size must be a power of two in 64..8192 (got ${o.textureSize})`, 'use 1024, 2048 or 4096');
  }
  if (!Number.isInteger(o.triangles) || o.triangles < MIN_LOD_TRIANGLES) {
    fail(`a triangle budget of ${o.triangles} is impossible: a head needs at least ${MIN_LOD_TRIANGLES} triangles`, 'ask for 5 000 or more triangles');
  }
  if (o.lods.length === 0 || o.lods[0] !== 1 || o.lods.some((r, i) => !(r > 0 && r <= 1) || (i > 0 && r >= o.lods[i - 1]))) {
    fail(`LOD ratios must start at 1 and decrease within (0, 1] (got ${o.lods.join(', ')})`);
  }
  const smallest = Math.floor(o.triangles * o.lods[o.lods.length - 1]);
  if (smallest < MIN_LOD_TRIANGLES) {
    fail(`the last LOD would have ${smallest} triangles, below the minimum of ${MIN_LOD_TRIANGLES}`, 'raise the triangle budget or use fewer LODs');
  }
  if (o.opacity !== 'auto' && !(o.opacity > 0 && o.opacity < 1)) fail(`opacity level must lie in (0, 1) or be "auto" (got ${o.opacity})`);
  if (o.surface !== 'opacity' && o.surface !== 'density') fail(`surface must be "opacity" or "density" (got ${String(o.surface)})`);
  if (!(o.bakeScale > 0 && o.bakeScale <= 1) || !Number.isInteger(o.textureSize * o.bakeScale)) fail(`bake scale must lie in (0, 1] and give a whole texture size (got ${o.bakeScale})`);
  if (o.colorFrom !== 'median' && o.colorFrom !== 'mesh') fail(`colorFrom must be "median" or "mesh" (got ${String(o.colorFrom)})`);
  if (o.pivot !== 'center' && o.pivot !== 'neck') fail(`pivot must be "center" or "neck" (got ${String(o.pivot)})`);
}

/** Compacts one LOD's vertices, computes its normals and converts it to metres around the pivot. */
function lodInGltfFrame(atlas: AtlasMesh, indices: Uint32Array, relativeError: number, pivot: [number, number, number]): MeshLod {
  const normalsAll = vertexNormals(atlas.positions, indices, atlas.sourceVertex);
  const { indices: compactIndices, remap, positions: worldPositions } = compactMesh({ positions: atlas.positions, indices });
  const count = worldPositions.length / 3;
  const positions = new Float32Array(count * 3);
  const normals = new Float32Array(count * 3);
  const uvs = new Float32Array(count * 2);
  for (let v = 0; v < remap.length; v++) {
    const j = remap[v];
    if (j < 0) continue;
    for (let k = 0; k < 3; k++) {
      positions[j * 3 + k] = (atlas.positions[v * 3 + k] - pivot[k]) * METRES_PER_UNIT;
      normals[j * 3 + k] = normalsAll[v * 3 + k];
    }
    uvs[j * 2] = atlas.uvs[v * 2];
    uvs[j * 2 + 1] = atlas.uvs[v * 2 + 1];
  }
  return { positions, normals, uvs, indices: compactIndices, relativeError };
}

/** A TriangleMesh view of one LOD (metres, pivot frame). */
export function lodMesh(lod: MeshLod): TriangleMesh {
  return { positions: lod.positions, indices: lod.indices };
}
