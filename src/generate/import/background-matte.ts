import type { RgbaImage } from '../../core/image.js';

export interface BackgroundMatteOptions {
  /** Colour distance (max over R, G, B, 0–255) at or below which a pixel is background (default 16). */
  low?: number;
  /** Colour distance at or above which a pixel is foreground (default 48); in between, alpha ramps. */
  high?: number;
  /** Least share of border pixels within `high` of the border's median colour for a plain background (default 0.6). */
  minPlainBorder?: number;
  /**
   * Width in pixels of the band beyond the keyed background whose pixels may still be mixed with it
   * (default 2). An edge pixel's alpha is its position between the background and the colour of the
   * nearest solid pixel within twice that distance; edge pixels with none keep the `low`–`high` ramp.
   */
  edgeRadius?: number;
}

export const BACKGROUND_MATTE_DEFAULTS = { low: 16, high: 48, minPlainBorder: 0.6, edgeRadius: 2 };

export interface BackgroundMatte {
  /** The frame with alpha = the matte and the background colour unmixed from the edge pixels. */
  image: RgbaImage;
  /** The background colour (median of the border), RGB. */
  background: [number, number, number];
  /** False when the border is not one plain colour: the frame is then returned opaque. */
  keyed: boolean;
  /** Share of the pixels with alpha > 0.5. */
  coverage: number;
}

/**
 * Recovers the alpha of a frame rendered on a plain background, as videos carry none (the
 * reference implementation writes its orbit as an mp4 on a plain backdrop): the background colour
 * is the median of the image border, background is what a flood fill from the border reaches
 * through pixels near that colour (so a white collar inside the head stays opaque), an edge pixel's
 * alpha is where it lies between the background and the nearest solid foreground colour (else a
 * ramp from `low` to `high` colour distance), and the background is unmixed from the edge colours.
 * (A fixed ramp alone makes dark hair over a light backdrop nearly opaque at 20 % coverage.)
 *
 * @example
 * const { image, keyed } = backgroundMatte(await readImage('frame_000.png'));
 */
export function backgroundMatte(frame: RgbaImage, options: BackgroundMatteOptions = {}): BackgroundMatte {
  const { low, high, minPlainBorder, edgeRadius } = { ...BACKGROUND_MATTE_DEFAULTS, ...options };
  const { width, height, data } = frame;
  const out = new Uint8Array(data);
  const border = borderPixels(width, height, Math.max(1, Math.round(Math.min(width, height) / 64)));
  const background = [0, 1, 2].map((c) => median(border.map((p) => data[p * 4 + c]))) as [number, number, number];
  const distance = new Float32Array(width * height);
  for (let p = 0; p < width * height; p++) {
    distance[p] = Math.max(Math.abs(data[p * 4] - background[0]), Math.abs(data[p * 4 + 1] - background[1]), Math.abs(data[p * 4 + 2] - background[2]));
  }
  const plain = border.filter((p) => distance[p] < high).length / border.length;
  if (plain < minPlainBorder) {
    for (let p = 0; p < width * height; p++) out[p * 4 + 3] = 255;
    return { image: { width, height, data: out }, background, keyed: false, coverage: 1 };
  }
  const reached = floodFromBorder(width, height, border, (p) => distance[p] < high);
  // The band the flood stopped at holds mixed pixels too (coverage above the ramp's top).
  const edge = new Uint8Array(width * height);
  for (let p = 0; p < width * height; p++) {
    if (!reached[p]) continue;
    const x = p % width, y = (p - x) / width;
    for (let dy = -edgeRadius; dy <= edgeRadius; dy++) for (let dx = -edgeRadius; dx <= edgeRadius; dx++) {
      const xx = x + dx, yy = y + dy;
      if (xx >= 0 && yy >= 0 && xx < width && yy < height) edge[yy * width + xx] = 1;
    }
  }
  let covered = 0;
  for (let p = 0; p < width * height; p++) {
    const alpha = edge[p] ? edgeAlpha(p) : 1;
    if (alpha > 0 && alpha < 1) {
      for (let c = 0; c < 3; c++) out[p * 4 + c] = clampByte((data[p * 4 + c] - (1 - alpha) * background[c]) / alpha);
    }
    out[p * 4 + 3] = Math.round(alpha * 255);
    if (alpha > 0.5) covered++;
  }
  return { image: { width, height, data: out }, background, keyed: true, coverage: covered / (width * height) };

  /** Alpha of a pixel at or beside the background: its projection on the background → nearest solid colour line. */
  function edgeAlpha(p: number): number {
    if (distance[p] <= low) return 0;
    const x = p % width, y = (p - x) / width;
    let best = -1, bestSquared = Infinity;
    const search = 2 * edgeRadius;
    for (let dy = -search; dy <= search; dy++) {
      for (let dx = -search; dx <= search; dx++) {
        const xx = x + dx, yy = y + dy;
        if (xx < 0 || yy < 0 || xx >= width || yy >= height) continue;
        const q = yy * width + xx;
        if (edge[q] || dx * dx + dy * dy >= bestSquared) continue;
        best = q;
        bestSquared = dx * dx + dy * dy;
      }
    }
    const ramp = Math.min(1, Math.max(0, (distance[p] - low) / (high - low)));
    if (best < 0) return ramp;
    let along = 0, length = 0;
    for (let c = 0; c < 3; c++) {
      const f = data[best * 4 + c] - background[c];
      along += (data[p * 4 + c] - background[c]) * f;
      length += f * f;
    }
    return length < high * high ? ramp : Math.min(1, Math.max(0, along / length));
  }
}

function borderPixels(width: number, height: number, band: number): number[] {
  const pixels: number[] = [];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (x < band || y < band || x >= width - band || y >= height - band) pixels.push(y * width + x);
    }
  }
  return pixels;
}

function floodFromBorder(width: number, height: number, seeds: number[], passable: (p: number) => boolean): Uint8Array {
  const reached = new Uint8Array(width * height);
  const stack: number[] = [];
  for (const p of seeds) {
    if (passable(p) && !reached[p]) {
      reached[p] = 1;
      stack.push(p);
    }
  }
  while (stack.length > 0) {
    const p = stack.pop()!;
    const x = p % width, y = (p - x) / width;
    const neighbours = [x > 0 ? p - 1 : -1, x < width - 1 ? p + 1 : -1, y > 0 ? p - width : -1, y < height - 1 ? p + width : -1];
    for (const q of neighbours) {
      if (q >= 0 && !reached[q] && passable(q)) {
        reached[q] = 1;
        stack.push(q);
      }
    }
  }
  return reached;
}

function median(values: number[]): number {
  const sorted = Float64Array.from(values).sort();
  return sorted[sorted.length >> 1];
}

function clampByte(v: number): number {
  return Math.min(255, Math.max(0, Math.round(v)));
}
