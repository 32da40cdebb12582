import type { Camera } from '../core/camera.js';
import { type RgbaImage, readImage } from '../core/image.js';
import { type Mat4, invertAffine4 } from '../core/mat4.js';
import { frameImagePath, readTransformsJson } from '../core/transforms-json.js';
import type { FieldSampler } from './field-sampler.js';

export interface VisualHullOptions {
  /** Alpha (0–1) from which a pixel counts as foreground (default 0.5). */
  alphaThreshold?: number;
  /** Pixels the foreground is grown by, so the hull never cuts into a soft edge (default 1). */
  dilation?: number;
}

export const VISUAL_HULL_DEFAULTS = { alphaThreshold: 0.5, dilation: 1 };

interface HullView {
  mask: Uint8Array;
  width: number;
  height: number;
  /** world → camera (OpenCV), row-major 4×4. */
  world2cam: Mat4;
  fx: number;
  fy: number;
  cx: number;
  cy: number;
}

/**
 * The visual hull of a view set: the points that project inside the foreground (alpha) of every
 * view that sees them, and that at least one view sees. A radiance field fitted to the views can
 * hold density outside it only where training never looked closely (its initial density in
 * corners no ray crossed, stray fins behind the head); none of it is supported by the views.
 *
 * @example
 * const hull = new VisualHull(views.map(({ image, camera }) => ({ image, camera })));
 * hull.contains(0, 0, 0); // true for a head centred at the origin
 */
export class VisualHull {
  private readonly views: HullView[];

  constructor(views: { image: RgbaImage; camera: Camera }[], options: VisualHullOptions = {}) {
    const o = { ...VISUAL_HULL_DEFAULTS, ...options };
    const threshold = Math.round(o.alphaThreshold * 255);
    this.views = views.map(({ image, camera }) => {
      const { fx, fy, cx, cy } = camera.intrinsics;
      const fg = new Uint8Array(image.width * image.height);
      for (let i = 0; i < fg.length; i++) fg[i] = image.data[i * 4 + 3] >= threshold ? 1 : 0;
      return { mask: grow(fg, image.width, image.height, o.dilation), width: image.width, height: image.height, world2cam: invertAffine4(camera.cam2world), fx, fy, cx, cy };
    });
  }

  get viewCount(): number {
    return this.views.length;
  }

  contains(x: number, y: number, z: number): boolean {
    let seen = false;
    for (const v of this.views) {
      const m = v.world2cam;
      const Z = m[8] * x + m[9] * y + m[10] * z + m[11];
      if (Z <= 0) continue;
      const u = Math.floor((v.fx * (m[0] * x + m[1] * y + m[2] * z + m[3])) / Z + v.cx);
      const w = Math.floor((v.fy * (m[4] * x + m[5] * y + m[6] * z + m[7])) / Z + v.cy);
      if (u < 0 || w < 0 || u >= v.width || w >= v.height) continue;
      if (!v.mask[w * v.width + u]) return false;
      seen = true;
    }
    return seen;
  }
}

/** Reads a transforms.json view set's images and cameras into its visual hull. */
export async function loadVisualHull(transformsPath: string, options: VisualHullOptions = {}): Promise<VisualHull> {
  const viewSet = await readTransformsJson(transformsPath);
  const views = [];
  for (const frame of viewSet.frames) views.push({ image: await readImage(frameImagePath(viewSet, frame), `view image ${frame.filePath}`), camera: frame.camera });
  return new VisualHull(views, options);
}

/**
 * A field whose density is zero outside `hull` (and whose `occupied` says so, for empty-space
 * skipping); colour is the field's own. Export through it to drop what the views do not support.
 *
 * @example
 * const result = await exportMeshGlb(hullField(field, await loadVisualHull('work/views/transforms.json')), 'head.glb');
 */
export function hullField(field: FieldSampler, hull: VisualHull): FieldSampler {
  let points = new Float32Array(0);
  let values = new Float32Array(0);
  let targets = new Int32Array(0);
  return {
    boundsMin: field.boundsMin,
    boundsMax: field.boundsMax,
    marchStep: field.marchStep,
    color: (xyz, count, out, directions) => field.color(xyz, count, out, directions),
    occupied: (x, y, z) => hull.contains(x, y, z) && (field.occupied ? field.occupied(x, y, z) : true),
    density(xyz, count, out) {
      if (points.length < count * 3) {
        points = new Float32Array(count * 3);
        values = new Float32Array(count);
        targets = new Int32Array(count);
      }
      let inside = 0;
      for (let i = 0; i < count; i++) {
        out[i] = 0;
        if (!hull.contains(xyz[i * 3], xyz[i * 3 + 1], xyz[i * 3 + 2])) continue;
        points.set(xyz.subarray(i * 3, i * 3 + 3), inside * 3);
        targets[inside++] = i;
      }
      if (inside === 0) return;
      field.density(points, inside, values);
      for (let k = 0; k < inside; k++) out[targets[k]] = values[k];
    },
  };
}

/** Square max-filter of a 0/1 mask by `radius` pixels. */
function grow(mask: Uint8Array, width: number, height: number, radius: number): Uint8Array {
  if (radius <= 0) return mask;
  const rows = new Uint8Array(mask.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let on = 0;
      for (let d = -radius; d <= radius && !on; d++) {
        const xx = x + d;
        if (xx >= 0 && xx < width && mask[y * width + xx]) on = 1;
      }
      rows[y * width + x] = on;
    }
  }
  const out = new Uint8Array(mask.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let on = 0;
      for (let d = -radius; d <= radius && !on; d++) {
        const yy = y + d;
        if (yy >= 0 && yy < height && rows[yy * width + x]) on = 1;
      }
      out[y * width + x] = on;
    }
  }
  return out;
}
