import type { Camera } from '../../core/camera.js';
import { type RgbaImage, createImage } from '../../core/image.js';
import type { DepthMap } from './depth-map.js';
import type { HeadShape } from './head-shape.js';
import type { Palette } from './palette.js';

export interface ProxyColourOptions {
  /** Cosine between normal and view direction over which the photo fades in (default [0.12, 0.4]). */
  facingRamp?: [number, number];
  /** Matte alpha over which the photo fades in, so edge pixels holding background are not used (default [0.6, 0.95]). */
  matteRamp?: [number, number];
}

export const PROXY_COLOUR_DEFAULTS: Required<ProxyColourOptions> = { facingRamp: [0.12, 0.4], matteRamp: [0.6, 0.95] };

/** Side of the palette texture (hair weight along u, clothes weight along v). */
export const PALETTE_TEXTURE_SIZE = 32;

/**
 * Where a point falls in the palette: how much hair (crown and back of the head) and how much
 * clothes (the torso) its colour has, from its head-local height and depth; the rest is skin.
 */
export function paletteWeights(shape: HeadShape, x: number, y: number, z: number): [number, number] {
  const f = shape.frame;
  const p = shape.proportions;
  const qy = (y - f.centre[1]) / f.scale, qz = (z - f.centre[2]) / f.scale;
  const torsoTop = p.torsoCentre[1] + p.torsoRadii[1];
  const clothes = smoothstep(torsoTop + 0.05, torsoTop - 0.01, qy);
  const hair = Math.min(1, smoothstep(0.04, 0.12, qy) + smoothstep(0.0, -0.08, qz) * smoothstep(-0.2, -0.1, qy));
  return [hair, clothes];
}

/** Texture coordinates that look a weight pair up in the palette texture. */
export function paletteUv(weights: [number, number]): [number, number] {
  const inset = 0.5 / PALETTE_TEXTURE_SIZE;
  return [inset + weights[0] * (1 - 2 * inset), inset + weights[1] * (1 - 2 * inset)];
}

/** The palette as a texture: colour = mix(mix(skin, hair, u), clothes, v), bilinear-exact between texels. */
export function paletteTexture(palette: Palette): RgbaImage {
  const n = PALETTE_TEXTURE_SIZE;
  const image = createImage(n, n);
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) {
      const rgb = paletteColour(palette, [i / (n - 1), j / (n - 1)]);
      for (let k = 0; k < 3; k++) image.data[(j * n + i) * 4 + k] = Math.round(rgb[k] * 255);
      image.data[(j * n + i) * 4 + 3] = 255;
    }
  }
  return image;
}

export function paletteColour(palette: Palette, [hair, clothes]: [number, number]): [number, number, number] {
  const out: [number, number, number] = [0, 0, 0];
  for (let k = 0; k < 3; k++) out[k] = (palette.skin[k] * (1 - hair) + palette.hair[k] * hair) * (1 - clothes) + palette.clothes[k] * clothes;
  return out;
}

/**
 * The photo texture for the surface the input camera sees: each crop pixel whose ray hits the
 * proxy keeps the photo where the surface faces the camera and the matte is solid, and fades to
 * the palette colour of that surface point toward grazing angles and matte edges. Pixels the
 * proxy does not cover are grown from their neighbours so filtering never reads background.
 */
export function photoTexture(shape: HeadShape, crop: RgbaImage, camera: Camera, depth: DepthMap, palette: Palette, options: ProxyColourOptions = {}): RgbaImage {
  const o = { ...PROXY_COLOUR_DEFAULTS, ...options };
  const { width, height } = crop;
  const { fx, fy, cx, cy } = camera.intrinsics;
  const c2w = camera.cam2world;
  const eye = [c2w[3], c2w[7], c2w[11]];
  const out = createImage(width, height);
  const filled = new Uint8Array(width * height);
  const eps = 0.002;
  for (let j = 0; j < height; j++) {
    for (let i = 0; i < width; i++) {
      const k = j * width + i;
      const Z = depth.depth[k];
      if (!Number.isFinite(Z)) continue;
      const X = ((i + 0.5 - cx) * Z) / fx, Y = ((j + 0.5 - cy) * Z) / fy;
      const x = c2w[0] * X + c2w[1] * Y + c2w[2] * Z + c2w[3];
      const y = c2w[4] * X + c2w[5] * Y + c2w[6] * Z + c2w[7];
      const z = c2w[8] * X + c2w[9] * Y + c2w[10] * Z + c2w[11];
      const gx = shape.distance(x + eps, y, z) - shape.distance(x - eps, y, z);
      const gy = shape.distance(x, y + eps, z) - shape.distance(x, y - eps, z);
      const gz = shape.distance(x, y, z + eps) - shape.distance(x, y, z - eps);
      const vx = eye[0] - x, vy = eye[1] - y, vz = eye[2] - z;
      const facing = (gx * vx + gy * vy + gz * vz) / ((Math.hypot(gx, gy, gz) || 1) * Math.hypot(vx, vy, vz));
      const alpha = crop.data[k * 4 + 3] / 255;
      const weight = smoothstep(o.facingRamp[0], o.facingRamp[1], facing) * smoothstep(o.matteRamp[0], o.matteRamp[1], alpha);
      const fallback = paletteColour(palette, paletteWeights(shape, x, y, z));
      for (let c = 0; c < 3; c++) out.data[k * 4 + c] = Math.round(weight * crop.data[k * 4 + c] + (1 - weight) * fallback[c] * 255);
      out.data[k * 4 + 3] = 255;
      filled[k] = 1;
    }
  }
  growFilled(out, filled, 4, palette.skin);
  return out;
}

/** Fills empty pixels ring by ring from filled neighbours; whatever is left gets `rest`. */
function growFilled(image: RgbaImage, filled: Uint8Array, rings: number, rest: [number, number, number]): void {
  const { width, height, data } = image;
  for (let ring = 0; ring < rings; ring++) {
    const next = filled.slice();
    for (let j = 0; j < height; j++) {
      for (let i = 0; i < width; i++) {
        const k = j * width + i;
        if (filled[k]) continue;
        const sum = [0, 0, 0];
        let count = 0;
        for (let dj = -1; dj <= 1; dj++) {
          for (let di = -1; di <= 1; di++) {
            const ii = i + di, jj = j + dj;
            if (ii < 0 || jj < 0 || ii >= width || jj >= height || !filled[jj * width + ii]) continue;
            for (let c = 0; c < 3; c++) sum[c] += data[(jj * width + ii) * 4 + c];
            count++;
          }
        }
        if (count === 0) continue;
        for (let c = 0; c < 3; c++) data[k * 4 + c] = Math.round(sum[c] / count);
        data[k * 4 + 3] = 255;
        next[k] = 1;
      }
    }
    filled.set(next);
  }
  for (let k = 0; k < filled.length; k++) {
    if (filled[k]) continue;
    for (let c = 0; c < 3; c++) data[k * 4 + c] = Math.round(rest[c] * 255);
    data[k * 4 + 3] = 255;
  }
}

function smoothstep(edge0: number, edge1: number, x: number): number {
  const t = Math.min(1, Math.max(0, (x - edge0) / (edge1 - edge0)));
  return t * t * (3 - 2 * t);
}
