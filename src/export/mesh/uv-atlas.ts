import * as watlasModule from 'watlas';
import { Head3dError } from '../../core/errors.js';
import { type TriangleMesh, meshArea } from './triangle-mesh.js';

/** The watlas (xatlas in WebAssembly) module, injectable so callers can bring their own build. */
export type Watlas = typeof watlasModule;

export interface UvAtlasOptions {
  /** Side of the square texture the atlas is packed for, in texels (default 2048). */
  textureSize?: number;
  /** Empty texels kept between charts, so filtering and mipmaps do not bleed (default 4). */
  padding?: number;
  /**
   * Largest chart as a fraction of the mesh's surface area (default 0.02). Bounded charts keep
   * xatlas' chart growing fast (≈ 4× faster than unbounded at 30k triangles) at some cost in
   * packing efficiency.
   */
  maxChartAreaFraction?: number;
  /** The watlas module (default: the installed `watlas` package). */
  watlas?: Watlas;
}

export const UV_ATLAS_DEFAULTS: Required<Omit<UvAtlasOptions, 'watlas'>> = { textureSize: 2048, padding: 4, maxChartAreaFraction: 0.02 };

/** A mesh with texture coordinates; vertices on chart seams are duplicated. */
export interface AtlasMesh extends TriangleMesh {
  /** glTF convention: (0, 0) is the texture's top-left corner. */
  uvs: Float32Array;
  /** For each vertex, the index of the input vertex it copies. */
  sourceVertex: Uint32Array;
  charts: number;
  /** Fraction of the texture covered by charts, as xatlas reports it. */
  utilization: number;
}

let initialised: WeakSet<object> | undefined;

/**
 * Cuts the mesh into charts and packs them into one square texture with xatlas (through watlas).
 * Packing starts at the texel density that would cover half the texture and is repeated at a
 * lower density until everything fits one texture.
 */
export async function buildUvAtlas(mesh: TriangleMesh, options: UvAtlasOptions = {}): Promise<AtlasMesh> {
  const { textureSize, padding, maxChartAreaFraction } = { ...UV_ATLAS_DEFAULTS, ...options };
  const watlas = options.watlas ?? watlasModule;
  initialised ??= new WeakSet();
  if (!initialised.has(watlas)) {
    await watlas.Initialize();
    initialised.add(watlas);
  }
  const atlas = new watlas.Atlas();
  try {
    atlas.addMesh({
      vertexPositionData: mesh.positions,
      vertexCount: mesh.positions.length / 3,
      vertexPositionStride: 12,
      indexData: mesh.indices,
      indexCount: mesh.indices.length,
    });
    atlas.computeCharts({ maxChartArea: maxChartAreaFraction * meshArea(mesh), maxIterations: 0 });
    // Start from the density that would cover half the texture (xatlas' own estimate, asked for
    // with 0, overshoots on heads and costs a third packing pass).
    let texelsPerUnit = Math.sqrt((0.5 * textureSize * textureSize) / Math.max(meshArea(mesh), 1e-12));
    for (let attempt = 0; attempt < 8; attempt++) {
      atlas.packCharts({ resolution: textureSize, padding, bilinear: true, rotateCharts: true, texelsPerUnit });
      const largest = Math.max(atlas.width, atlas.height);
      if (atlas.atlasCount === 1 && largest > 0 && largest <= textureSize) return readAtlas(atlas, mesh, textureSize);
      const shrink = atlas.atlasCount > 1 ? 0.85 : Math.min(0.98, (textureSize / largest) * 0.99);
      texelsPerUnit = atlas.texelsPerUnit * shrink;
    }
  } finally {
    atlas.delete();
  }
  throw new Head3dError(`uv atlas: the charts do not fit one ${textureSize}² texture`, { hint: 'use a larger texture size' });
}

function readAtlas(atlas: InstanceType<Watlas['Atlas']>, source: TriangleMesh, textureSize: number): AtlasMesh {
  const out = atlas.getMesh(0);
  const n = out.vertexCount;
  const positions = new Float32Array(n * 3);
  const uvs = new Float32Array(n * 2);
  const sourceVertex = new Uint32Array(n);
  // UVs come in texels of an atlas.width × atlas.height image no larger than the texture.
  const scale = 1 / textureSize;
  for (let v = 0; v < n; v++) {
    const vertex = out.getVertex(v);
    sourceVertex[v] = vertex.xref;
    positions.set(source.positions.subarray(vertex.xref * 3, vertex.xref * 3 + 3), v * 3);
    uvs[v * 2] = vertex.uv[0] * scale;
    uvs[v * 2 + 1] = vertex.uv[1] * scale;
  }
  const utilization = new Float32Array(1);
  atlas.getUtilization(utilization);
  const used = (atlas.width * atlas.height) / (textureSize * textureSize);
  return { positions, uvs, sourceVertex, indices: readIndices(out), charts: out.chartCount, utilization: utilization[0] * used };
}

function readIndices(out: { indexCount: number; getIndexArray(array: Uint32Array): boolean }): Uint32Array {
  const indices = new Uint32Array(out.indexCount);
  out.getIndexArray(indices);
  return indices;
}
