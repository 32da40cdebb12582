import type { RgbaImage } from '../core/image.js';
import type { Vec3 } from '../core/mat4.js';

/**
 * A triangle mesh ready for rasterizing: world-space positions, UVs in glTF's convention (v = 0 is
 * the image's top row) and a base-colour texture per part.
 */
export interface MeshPart {
  positions: Float32Array;
  uvs: Float32Array | null;
  indices: Uint32Array;
  texture: RgbaImage | null;
}

export interface TexturedMesh {
  parts: MeshPart[];
}

export function vertexCount(mesh: TexturedMesh): number {
  return mesh.parts.reduce((n, p) => n + p.positions.length / 3, 0);
}

export function triangleCount(mesh: TexturedMesh): number {
  return mesh.parts.reduce((n, p) => n + p.indices.length / 3, 0);
}

export function boundingBox(mesh: TexturedMesh): { min: Vec3; max: Vec3 } {
  const min: Vec3 = [Infinity, Infinity, Infinity];
  const max: Vec3 = [-Infinity, -Infinity, -Infinity];
  for (const part of mesh.parts) {
    const p = part.positions;
    for (let i = 0; i < p.length; i += 3) {
      for (let k = 0; k < 3; k++) {
        if (p[i + k] < min[k]) min[k] = p[i + k];
        if (p[i + k] > max[k]) max[k] = p[i + k];
      }
    }
  }
  return { min, max };
}

/** Applies a row-major 4×4 affine transform to every position, returning a new mesh. */
export function transformMesh(mesh: TexturedMesh, m: number[]): TexturedMesh {
  return {
    parts: mesh.parts.map((part) => {
      const src = part.positions;
      const out = new Float32Array(src.length);
      for (let i = 0; i < src.length; i += 3) {
        const x = src[i], y = src[i + 1], z = src[i + 2];
        out[i] = m[0] * x + m[1] * y + m[2] * z + m[3];
        out[i + 1] = m[4] * x + m[5] * y + m[6] * z + m[7];
        out[i + 2] = m[8] * x + m[9] * y + m[10] * z + m[11];
      }
      return { ...part, positions: out };
    }),
  };
}

/** glTF keeps v = 0 at the top of the image; assets made for flipY=true loaders need v → 1 − v. */
export function flipV(mesh: TexturedMesh): TexturedMesh {
  return {
    parts: mesh.parts.map((part) => {
      if (!part.uvs) return part;
      const uvs = part.uvs.slice();
      for (let i = 1; i < uvs.length; i += 2) uvs[i] = 1 - uvs[i];
      return { ...part, uvs };
    }),
  };
}
