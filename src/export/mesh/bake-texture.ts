import type { RgbaImage } from '../../core/image.js';
import type { FieldSampler } from '../field-sampler.js';
import type { AtlasMesh } from './uv-atlas.js';

export interface BakeOptions {
  /** Texture side in texels (default 2048). */
  textureSize?: number;
  /** Rings of texels grown outward from every chart so filtering never reads empty texels (default 16). */
  dilation?: number;
  /** Points per `field.color` call (default 65 536). */
  batchSize?: number;
}

export const BAKE_DEFAULTS: Required<BakeOptions> = { textureSize: 2048, dilation: 16, batchSize: 65_536 };

/**
 * Bakes the field's view-independent colour into the atlas: every texel whose centre lies in a
 * triangle's UV footprint gets `field.color` at the matching point on the triangle (sRGB values
 * written as they come, like the training images). Charts are then dilated by `dilation` rings
 * (each new texel the mean of its filled neighbours) so bilinear filtering and mipmaps do not
 * pull the background across seams; texels beyond that get the mean colour.
 */
export function bakeBaseColor(mesh: AtlasMesh, field: FieldSampler, options: BakeOptions = {}): { image: RgbaImage; coverage: number } {
  const { textureSize: size, dilation, batchSize } = { ...BAKE_DEFAULTS, ...options };
  const rgb = new Float32Array(size * size * 3);
  const filled = new Uint8Array(size * size);
  const points = new Float32Array(batchSize * 3);
  const texels = new Int32Array(batchSize);
  const colours = new Float32Array(batchSize * 3);
  let pending = 0;
  const flush = (): void => {
    if (pending === 0) return;
    field.color(points, pending, colours);
    for (let i = 0; i < pending; i++) {
      const t = texels[i];
      rgb[t * 3] = colours[i * 3];
      rgb[t * 3 + 1] = colours[i * 3 + 1];
      rgb[t * 3 + 2] = colours[i * 3 + 2];
      filled[t] = 1;
    }
    pending = 0;
  };
  const { positions: p, uvs, indices } = mesh;
  for (let t = 0; t < indices.length; t += 3) {
    const a = indices[t], b = indices[t + 1], c = indices[t + 2];
    const ax = uvs[a * 2] * size, ay = uvs[a * 2 + 1] * size;
    const bx = uvs[b * 2] * size, by = uvs[b * 2 + 1] * size;
    const cx = uvs[c * 2] * size, cy = uvs[c * 2 + 1] * size;
    const area = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax);
    if (area === 0) continue;
    const minX = Math.max(0, Math.floor(Math.min(ax, bx, cx) - 0.5));
    const maxX = Math.min(size - 1, Math.ceil(Math.max(ax, bx, cx) - 0.5));
    const minY = Math.max(0, Math.floor(Math.min(ay, by, cy) - 0.5));
    const maxY = Math.min(size - 1, Math.ceil(Math.max(ay, by, cy) - 0.5));
    for (let y = minY; y <= maxY; y++) {
      const py = y + 0.5;
      for (let x = minX; x <= maxX; x++) {
        const px = x + 0.5;
        const wa = ((bx - px) * (cy - py) - (by - py) * (cx - px)) / area;
        const wb = ((cx - px) * (ay - py) - (cy - py) * (ax - px)) / area;
        const wc = 1 - wa - wb;
        if (wa < -1e-7 || wb < -1e-7 || wc < -1e-7) continue;
        const o = pending * 3;
        points[o] = wa * p[a * 3] + wb * p[b * 3] + wc * p[c * 3];
        points[o + 1] = wa * p[a * 3 + 1] + wb * p[b * 3 + 1] + wc * p[c * 3 + 1];
        points[o + 2] = wa * p[a * 3 + 2] + wb * p[b * 3 + 2] + wc * p[c * 3 + 2];
        texels[pending] = x + y * size;
        if (++pending === batchSize) flush();
      }
    }
  }
  flush();
  let covered = 0;
  for (let i = 0; i < filled.length; i++) covered += filled[i];
  dilate(rgb, filled, size, dilation);

  const image: RgbaImage = { width: size, height: size, data: new Uint8Array(size * size * 4) };
  for (let i = 0; i < size * size; i++) {
    for (let k = 0; k < 3; k++) image.data[i * 4 + k] = Math.round(Math.min(1, Math.max(0, rgb[i * 3 + k])) * 255);
    image.data[i * 4 + 3] = 255;
  }
  return { image, coverage: covered / (size * size) };
}

/** Grows filled texels outward ring by ring, then gives every texel still empty the mean colour. */
function dilate(rgb: Float32Array, filled: Uint8Array, size: number, rings: number): void {
  let frontier: number[] = [];
  const queued = new Uint8Array(filled.length);
  const enqueueNeighbours = (i: number, into: number[]): void => {
    const x = i % size, y = (i - x) / size;
    for (let dy = -1; dy <= 1; dy++) {
      const yy = y + dy;
      if (yy < 0 || yy >= size) continue;
      for (let dx = -1; dx <= 1; dx++) {
        const xx = x + dx;
        if (xx < 0 || xx >= size) continue;
        const j = xx + yy * size;
        if (!filled[j] && !queued[j]) {
          queued[j] = 1;
          into.push(j);
        }
      }
    }
  };
  for (let i = 0; i < filled.length; i++) if (filled[i]) enqueueNeighbours(i, frontier);
  for (let ring = 0; ring < rings && frontier.length > 0; ring++) {
    const values = new Float32Array(frontier.length * 3);
    frontier.forEach((i, f) => {
      const x = i % size, y = (i - x) / size;
      let count = 0;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= size) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if (xx < 0 || xx >= size) continue;
          const j = xx + yy * size;
          if (!filled[j]) continue;
          values[f * 3] += rgb[j * 3];
          values[f * 3 + 1] += rgb[j * 3 + 1];
          values[f * 3 + 2] += rgb[j * 3 + 2];
          count++;
        }
      }
      for (let k = 0; k < 3; k++) values[f * 3 + k] /= count;
    });
    const next: number[] = [];
    frontier.forEach((i, f) => {
      rgb.set(values.subarray(f * 3, f * 3 + 3), i * 3);
      filled[i] = 1;
    });
    for (const i of frontier) enqueueNeighbours(i, next);
    frontier = next;
  }
  const mean = [0, 0, 0];
  let count = 0;
  for (let i = 0; i < filled.length; i++) {
    if (!filled[i]) continue;
    for (let k = 0; k < 3; k++) mean[k] += rgb[i * 3 + k];
    count++;
  }
  if (count === 0) return;
  for (let i = 0; i < filled.length; i++) {
    if (filled[i]) continue;
    for (let k = 0; k < 3; k++) rgb[i * 3 + k] = mean[k] / count;
  }
}
