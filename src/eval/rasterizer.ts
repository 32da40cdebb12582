import type { Camera } from '../core/camera.js';
import { invertAffine4 } from '../core/mat4.js';
import type { RgbaImage } from '../core/image.js';
import { linearToSrgb8, srgb8ToLinear } from './color.js';
import type { MeshPart, TexturedMesh } from './mesh.js';

export interface RasterizeOptions {
  /** Samples per pixel along each axis (3 → 9 samples); anti-aliasing and texture pre-filtering. */
  supersample?: number;
  /** Colour (linear RGB in [0,1]) for parts without a texture. */
  untexturedColor?: [number, number, number];
  /** Triangles with a vertex nearer than this (camera depth) are skipped. */
  near?: number;
}

const SUBPIXEL = 256;

export const RASTERIZE_DEFAULTS: Required<RasterizeOptions> = {
  supersample: 3,
  untexturedColor: [0.6, 0.6, 0.6],
  near: 1e-3,
};

/** Per-texture linear-light float copy, made once per texture object. */
const linearTextures = new WeakMap<RgbaImage, Float32Array>();

function linearTexture(texture: RgbaImage): Float32Array {
  let linear = linearTextures.get(texture);
  if (!linear) {
    linear = new Float32Array(texture.width * texture.height * 3);
    const src = texture.data;
    for (let i = 0, j = 0; i < src.length; i += 4, j += 3) {
      linear[j] = srgb8ToLinear[src[i]];
      linear[j + 1] = srgb8ToLinear[src[i + 1]];
      linear[j + 2] = srgb8ToLinear[src[i + 2]];
    }
    linearTextures.set(texture, linear);
  }
  return linear;
}

/**
 * Renders a textured mesh from a pinhole camera (OpenCV axes) into an RGBA image: z-buffered,
 * perspective-correct UVs, bilinear texture sampling (repeat wrap) in linear light, and an
 * S×S supersampled resolve whose coverage becomes alpha. Both faces of each triangle are drawn.
 * Pixel (i, j) covers [i, i+1)×[j, j+1) in the intrinsics' pixel units.
 */
export function rasterize(mesh: TexturedMesh, camera: Camera, options: RasterizeOptions = {}): RgbaImage {
  const { supersample: S, untexturedColor, near } = { ...RASTERIZE_DEFAULTS, ...options };
  const { width, height, fx, fy, cx, cy } = camera.intrinsics;
  const W = width * S;
  const H = height * S;
  const sampleCount = W * H;
  const inverseDepth = new Float32Array(sampleCount); // 0 = empty; larger = nearer
  const triangleOf = new Int32Array(sampleCount).fill(-1);
  const bary1 = new Float32Array(sampleCount);
  const bary2 = new Float32Array(sampleCount);

  const w2c = invertAffine4(camera.cam2world);
  const partOffsets: number[] = [];
  let triangleBase = 0;
  for (const part of mesh.parts) {
    partOffsets.push(triangleBase);
    rasterizePart(part, triangleBase);
    triangleBase += part.indices.length / 3;
  }

  function rasterizePart(part: MeshPart, base: number): void {
    const p = part.positions;
    const n = p.length / 3;
    const sx = new Float64Array(n);
    const sy = new Float64Array(n);
    const iz = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const x = p[i * 3], y = p[i * 3 + 1], z = p[i * 3 + 2];
      const xc = w2c[0] * x + w2c[1] * y + w2c[2] * z + w2c[3];
      const yc = w2c[4] * x + w2c[5] * y + w2c[6] * z + w2c[7];
      const zc = w2c[8] * x + w2c[9] * y + w2c[10] * z + w2c[11];
      iz[i] = zc > near ? 1 / zc : 0;
      // Snap to a 1/256-sample grid, as GPUs do: edge functions are then exact integers in
      // float64, so a sample on a shared edge is owned by exactly one triangle.
      sx[i] = Math.round(((fx * xc) / zc + cx) * S * SUBPIXEL);
      sy[i] = Math.round(((fy * yc) / zc + cy) * S * SUBPIXEL);
    }
    const idx = part.indices;
    for (let t = 0; t < idx.length; t += 3) {
      const a = idx[t], b = idx[t + 1], c = idx[t + 2];
      if (iz[a] === 0 || iz[b] === 0 || iz[c] === 0) continue;
      let ax = sx[a], ay = sy[a], bx = sx[b], by = sy[b];
      const cxs = sx[c], cys = sy[c];
      let area = (bx - ax) * (cys - ay) - (by - ay) * (cxs - ax);
      if (area === 0 || !Number.isFinite(area)) continue;
      // Orient every triangle counter-clockwise in screen space so one fill rule serves both faces.
      let ia = a, ib = b;
      if (area < 0) {
        [ax, bx] = [bx, ax];
        [ay, by] = [by, ay];
        [ia, ib] = [ib, ia];
        area = -area;
      }
      const minX = Math.max(0, Math.floor(Math.min(ax, bx, cxs) / SUBPIXEL - 0.5));
      const maxX = Math.min(W - 1, Math.ceil(Math.max(ax, bx, cxs) / SUBPIXEL - 0.5));
      const minY = Math.max(0, Math.floor(Math.min(ay, by, cys) / SUBPIXEL - 0.5));
      const maxY = Math.min(H - 1, Math.ceil(Math.max(ay, by, cys) / SUBPIXEL - 0.5));
      if (minX > maxX || minY > maxY) continue;
      const izA = iz[ia], izB = iz[ib], izC = iz[c];
      const triangleId = base + t / 3;
      const swapped = ia !== a;
      // Edge functions e0 (b→c, weight of a), e1 (c→a, weight of b), e2 (a→b, weight of c).
      const e0dx = (by - cys) * SUBPIXEL, e1dx = (cys - ay) * SUBPIXEL, e2dx = (ay - by) * SUBPIXEL;
      // Top-left rule: a sample exactly on an edge (w = 0) belongs to one of the two triangles only.
      const bias0 = isTopLeft(bx, by, cxs, cys) ? 0 : -1;
      const bias1 = isTopLeft(cxs, cys, ax, ay) ? 0 : -1;
      const bias2 = isTopLeft(ax, ay, bx, by) ? 0 : -1;
      const invArea = 1 / area;
      for (let y = minY; y <= maxY; y++) {
        const py = y * SUBPIXEL + SUBPIXEL / 2;
        const px = minX * SUBPIXEL + SUBPIXEL / 2;
        let w0 = (bx - px) * (cys - py) - (by - py) * (cxs - px);
        let w1 = (cxs - px) * (ay - py) - (cys - py) * (ax - px);
        let w2 = (ax - px) * (by - py) - (ay - py) * (bx - px);
        let row = y * W + minX;
        for (let x = minX; x <= maxX; x++, row++, w0 += e0dx, w1 += e1dx, w2 += e2dx) {
          if (w0 + bias0 < 0 || w1 + bias1 < 0 || w2 + bias2 < 0) continue;
          const l0 = w0 * invArea, l1 = w1 * invArea, l2 = w2 * invArea;
          const depth = l0 * izA + l1 * izB + l2 * izC; // 1/z is affine in screen space
          if (depth <= inverseDepth[row]) continue;
          inverseDepth[row] = depth;
          triangleOf[row] = triangleId;
          // Perspective-correct weights of the original b and c vertices.
          const pb = (l1 * izB) / depth, pc = (l2 * izC) / depth;
          const pa = (l0 * izA) / depth;
          bary1[row] = swapped ? pa : pb;
          bary2[row] = pc;
        }
      }
    }
  }

  // Shade each visible sample once, then box-filter S×S samples per pixel.
  const out = new Uint8Array(width * height * 4);
  const partOf = (triangleId: number): number => {
    let lo = 0;
    while (lo + 1 < partOffsets.length && partOffsets[lo + 1] <= triangleId) lo++;
    return lo;
  };
  const shade = new Float32Array(3);
  for (let py = 0; py < height; py++) {
    for (let px = 0; px < width; px++) {
      let r = 0, g = 0, b = 0, covered = 0;
      for (let sy2 = 0; sy2 < S; sy2++) {
        let s = (py * S + sy2) * W + px * S;
        for (let sx2 = 0; sx2 < S; sx2++, s++) {
          const triangleId = triangleOf[s];
          if (triangleId < 0) continue;
          const partIndex = partOf(triangleId);
          shadeSample(mesh.parts[partIndex], triangleId - partOffsets[partIndex], bary1[s], bary2[s], untexturedColor, shade);
          r += shade[0];
          g += shade[1];
          b += shade[2];
          covered++;
        }
      }
      const o = (py * width + px) * 4;
      if (covered > 0) {
        out[o] = linearToSrgb8(r / covered);
        out[o + 1] = linearToSrgb8(g / covered);
        out[o + 2] = linearToSrgb8(b / covered);
        out[o + 3] = Math.round((255 * covered) / (S * S));
      }
    }
  }
  return { width, height, data: out };
}

function isTopLeft(x0: number, y0: number, x1: number, y1: number): boolean {
  // A shared edge is walked in opposite directions by its two triangles; exactly one direction passes.
  const dy = y1 - y0;
  const dx = x1 - x0;
  return (dy === 0 && dx < 0) || dy > 0;
}

function shadeSample(
  part: MeshPart,
  triangle: number,
  wb: number,
  wc: number,
  untexturedColor: [number, number, number],
  out: Float32Array,
): void {
  if (!part.texture || !part.uvs) {
    out[0] = untexturedColor[0];
    out[1] = untexturedColor[1];
    out[2] = untexturedColor[2];
    return;
  }
  const i = triangle * 3;
  const a = part.indices[i], b = part.indices[i + 1], c = part.indices[i + 2];
  const uv = part.uvs;
  const wa = 1 - wb - wc;
  const u = wa * uv[a * 2] + wb * uv[b * 2] + wc * uv[c * 2];
  const v = wa * uv[a * 2 + 1] + wb * uv[b * 2 + 1] + wc * uv[c * 2 + 1];
  sampleBilinear(part.texture, linearTexture(part.texture), u, v, out);
}

/** Bilinear sample with repeat wrap; texel centres sit at (i + 0.5) / size, v = 0 is the top row. */
export function sampleBilinear(texture: RgbaImage, linear: Float32Array, u: number, v: number, out: Float32Array): void {
  const tw = texture.width, th = texture.height;
  const x = u * tw - 0.5;
  const y = v * th - 0.5;
  const x0f = Math.floor(x), y0f = Math.floor(y);
  const fx = x - x0f, fy = y - y0f;
  const x0 = ((x0f % tw) + tw) % tw, y0 = ((y0f % th) + th) % th;
  const x1 = x0 + 1 === tw ? 0 : x0 + 1, y1 = y0 + 1 === th ? 0 : y0 + 1;
  const i00 = (y0 * tw + x0) * 3, i10 = (y0 * tw + x1) * 3, i01 = (y1 * tw + x0) * 3, i11 = (y1 * tw + x1) * 3;
  const w00 = (1 - fx) * (1 - fy), w10 = fx * (1 - fy), w01 = (1 - fx) * fy, w11 = fx * fy;
  for (let k = 0; k < 3; k++) {
    out[k] = w00 * linear[i00 + k] + w10 * linear[i10 + k] + w01 * linear[i01 + k] + w11 * linear[i11 + k];
  }
}
