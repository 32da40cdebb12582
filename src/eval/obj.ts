import { Head3dError } from '../core/errors.js';

export interface ObjMesh {
  positions: Float32Array;
  /** glTF convention (v = 0 at the top of the image): OBJ's v is flipped on read. */
  uvs: Float32Array | null;
  indices: Uint32Array;
  materialLibrary?: string;
}

/**
 * Parses the geometry subset of Wavefront OBJ: `v`, `vt`, `f` (polygons fan-triangulated,
 * negative indices, `v`, `v/vt`, `v//vn`, `v/vt/vn`), `mtllib`. Each distinct (v, vt) pair
 * becomes one output vertex.
 */
export function parseObj(text: string, label = 'OBJ'): ObjMesh {
  const positions: number[] = [];
  const texcoords: number[] = [];
  const outPositions: number[] = [];
  const outUvs: number[] = [];
  const indices: number[] = [];
  const vertexIds = new Map<string, number>();
  let materialLibrary: string | undefined;
  let anyUv = false;

  const lines = text.split('\n');
  for (let lineNo = 0; lineNo < lines.length; lineNo++) {
    const line = lines[lineNo].trim();
    if (line === '' || line.startsWith('#')) continue;
    const parts = line.split(/\s+/);
    const fail = (what: string): never => {
      throw new Head3dError(`${label}:${lineNo + 1}: ${what}`, { hint: 'the OBJ file is malformed; export it again' });
    };
    switch (parts[0]) {
      case 'v': {
        const xyz = parts.slice(1, 4).map(Number);
        if (xyz.length < 3 || xyz.some((n) => !Number.isFinite(n))) fail('a vertex needs three numbers');
        positions.push(xyz[0], xyz[1], xyz[2]);
        break;
      }
      case 'vt': {
        const uv = parts.slice(1, 3).map(Number);
        if (uv.length < 2 || uv.some((n) => !Number.isFinite(n))) fail('a texture coordinate needs two numbers');
        texcoords.push(uv[0], uv[1]);
        break;
      }
      case 'f': {
        const corners = parts.slice(1).map((token) => {
          const [vText, vtText] = token.split('/');
          const resolveIndex = (raw: string | undefined, count: number): number | undefined => {
            if (raw === undefined || raw === '') return undefined;
            const n = Number.parseInt(raw, 10);
            const index = n < 0 ? count + n : n - 1;
            if (!Number.isInteger(n) || n === 0 || index < 0 || index >= count) fail(`face index "${raw}" is out of range`);
            return index;
          };
          const v = resolveIndex(vText, positions.length / 3);
          if (v === undefined) return fail('a face corner needs a vertex index');
          const vt = resolveIndex(vtText, texcoords.length / 2);
          const key = `${v}/${vt ?? ''}`;
          let id = vertexIds.get(key);
          if (id === undefined) {
            id = outPositions.length / 3;
            vertexIds.set(key, id);
            outPositions.push(positions[v * 3], positions[v * 3 + 1], positions[v * 3 + 2]);
            if (vt !== undefined) {
              anyUv = true;
              outUvs.push(texcoords[vt * 2], 1 - texcoords[vt * 2 + 1]);
            } else {
              outUvs.push(0, 0);
            }
          }
          return id;
        });
        if (corners.length < 3) fail('a face needs at least three corners');
        for (let k = 1; k + 1 < corners.length; k++) indices.push(corners[0], corners[k], corners[k + 1]);
        break;
      }
      case 'mtllib':
        materialLibrary = line.slice('mtllib'.length).trim();
        break;
      default:
        break; // vn, usemtl, o, g, s and the rest carry nothing the rasterizer needs
    }
  }
  if (indices.length === 0) throw new Head3dError(`${label} holds no faces`, { hint: 'check that the file is a triangle or polygon mesh' });
  return {
    positions: new Float32Array(outPositions),
    uvs: anyUv ? new Float32Array(outUvs) : null,
    indices: new Uint32Array(indices),
    materialLibrary,
  };
}
