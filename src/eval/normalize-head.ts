import type { Mat4, Vec3 } from '../core/mat4.js';
import { Head3dError } from '../core/errors.js';
import { type TexturedMesh, boundingBox, transformMesh } from './mesh.js';

/**
 * Crown-to-neck height of a head in PanoHead's world. An FFHQ-style crop puts about four
 * inter-pupillary distances across the face square; at focal 4.2647 and distance 2.7 the 563²
 * crop spans 0.633 units, so a 230 mm head is about 0.53 units tall and one unit is about 0.44 m.
 */
export const PANOHEAD_HEAD_HEIGHT = 0.55;

/** Metres per PanoHead world unit (used by the glTF export, which writes metres). */
export const METRES_PER_UNIT = 0.23 / 0.53;

export type Axis = '+x' | '-x' | '+y' | '-y' | '+z' | '-z';

export interface NormalizeOptions {
  /** The mesh's up axis (default +y). */
  up?: Axis;
  /** The direction the face looks in the mesh (default +z). */
  front?: Axis;
  /** Crown-to-neck height after normalisation, in world units. */
  headHeight?: number;
}

export interface HeadNormalization {
  /** Row-major similarity transform from the mesh's coordinates into PanoHead's world. */
  matrix: Mat4;
  /** Where the neck was found, in the mesh's own coordinates after re-orienting; null when no neck narrowing was found. */
  neckHeight: number | null;
  crownHeight: number;
  scale: number;
}

const AXES: Record<Axis, Vec3> = {
  '+x': [1, 0, 0], '-x': [-1, 0, 0], '+y': [0, 1, 0], '-y': [0, -1, 0], '+z': [0, 0, 1], '-z': [0, 0, -1],
};

export function isAxis(value: string): value is Axis {
  return value in AXES;
}

/**
 * Finds the head in a bust or head mesh and returns the transform into PanoHead's world: head
 * centre at the origin, +Y up, face toward +Z, crown-to-neck height `headHeight`.
 *
 * The neck is the narrowest horizontal slice below the widest slice of the top 40 %, if the mesh narrows
 * there by at least 10 %; otherwise the whole mesh is taken as the head.
 */
export function normalizeHead(mesh: TexturedMesh, options: NormalizeOptions = {}): HeadNormalization {
  const rotation = orientation(options.up ?? '+y', options.front ?? '+z');
  const oriented = transformMesh(mesh, rotation);
  const { min, max } = boundingBox(oriented);
  if (!(max[1] > min[1])) throw new Head3dError('the mesh is flat or empty and cannot be normalised');

  const bins = 48;
  const height = max[1] - min[1];
  const slabMin = new Float64Array(bins).fill(Infinity);
  const slabMax = new Float64Array(bins).fill(-Infinity);
  forEachVertex(oriented, (x, y) => {
    const b = Math.min(bins - 1, Math.floor(((max[1] - y) / height) * bins));
    if (x < slabMin[b]) slabMin[b] = x;
    if (x > slabMax[b]) slabMax[b] = x;
  });
  const widths = Array.from(slabMin, (lo, b) => (slabMax[b] > lo ? slabMax[b] - lo : 0));

  // Widest slice in the upper 40 % (the head), then the narrowest one below it before the
  // outline grows wider than the head again (the shoulders).
  let widest = 0;
  for (let b = 1; b < Math.floor(bins * 0.4); b++) if (widths[b] > widths[widest]) widest = b;
  let narrowest = -1;
  for (let b = widest + 1; b < bins; b++) {
    if (widths[b] === 0) continue;
    if (widths[b] > widths[widest]) break;
    if (narrowest < 0 || widths[b] < widths[narrowest]) narrowest = b;
  }
  const crown = max[1];
  let neck: number | null = null;
  if (narrowest > 0 && widths[narrowest] < 0.9 * widths[widest]) neck = max[1] - ((narrowest + 0.5) / bins) * height;
  const bottom = neck ?? min[1];

  const headMin: Vec3 = [Infinity, Infinity, Infinity];
  const headMax: Vec3 = [-Infinity, -Infinity, -Infinity];
  forEachVertex(oriented, (x, y, z) => {
    if (y < bottom) return;
    const p = [x, y, z];
    for (let k = 0; k < 3; k++) {
      if (p[k] < headMin[k]) headMin[k] = p[k];
      if (p[k] > headMax[k]) headMax[k] = p[k];
    }
  });
  const centre: Vec3 = [(headMin[0] + headMax[0]) / 2, (crown + bottom) / 2, (headMin[2] + headMax[2]) / 2];
  const scale = (options.headHeight ?? PANOHEAD_HEAD_HEIGHT) / (crown - bottom);
  const place: Mat4 = [
    scale, 0, 0, -scale * centre[0],
    0, scale, 0, -scale * centre[1],
    0, 0, scale, -scale * centre[2],
    0, 0, 0, 1,
  ];
  return { matrix: multiplyRowMajor(place, rotation), neckHeight: neck, crownHeight: crown, scale };
}

/** Rotation taking the mesh's `up` to +Y and `front` to +Z. */
function orientation(up: Axis, front: Axis): Mat4 {
  const u = AXES[up];
  const f = AXES[front];
  if (Math.abs(u[0] * f[0] + u[1] * f[1] + u[2] * f[2]) > 0) {
    throw new Head3dError(`--up ${up} and --front ${front} must be perpendicular axes`);
  }
  const r: Vec3 = [u[1] * f[2] - u[2] * f[1], u[2] * f[0] - u[0] * f[2], u[0] * f[1] - u[1] * f[0]];
  // Rows are the images of world X, Y, Z: x' = r·p, y' = u·p, z' = f·p.
  return [r[0], r[1], r[2], 0, u[0], u[1], u[2], 0, f[0], f[1], f[2], 0, 0, 0, 0, 1];
}

function forEachVertex(mesh: TexturedMesh, visit: (x: number, y: number, z: number) => void): void {
  for (const part of mesh.parts) {
    const p = part.positions;
    for (let i = 0; i < p.length; i += 3) visit(p[i], p[i + 1], p[i + 2]);
  }
}

function multiplyRowMajor(a: Mat4, b: Mat4): Mat4 {
  const out = new Array<number>(16).fill(0);
  for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) for (let k = 0; k < 4; k++) out[r * 4 + c] += a[r * 4 + k] * b[k * 4 + c];
  return out;
}
