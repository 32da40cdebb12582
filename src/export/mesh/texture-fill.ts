/**
 * Texture clean-up after a bake: growing charts across their padding so filtering never reads
 * empty texels, and resampling a bake to the texture's final size. Images here are float RGB,
 * `size`² texels, row-major.
 */

/**
 * Grows filled texels outward `rings` times (each new texel the mean of its filled 8-neighbours),
 * then gives every texel still empty the mean colour. `filled` gains the dilated rings (not the
 * mean-filled rest).
 */
export function dilateTexels(rgb: Float32Array, filled: Uint8Array, size: number, rings: number): void {
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

/**
 * Bilinear resampling of a square float RGB image from `from`² to `to`² texels, texel centres
 * aligned (the mapping a GPU's bilinear filter uses), edges clamped.
 */
export function resizeBilinear(rgb: Float32Array, from: number, to: number): Float32Array {
  if (from === to) return rgb;
  const out = new Float32Array(to * to * 3);
  const scale = from / to;
  const coordinates = (i: number): [number, number, number] => {
    const f = Math.min(from - 1, Math.max(0, (i + 0.5) * scale - 0.5));
    const i0 = Math.min(from - 2, Math.floor(f));
    return from === 1 ? [0, 0, 0] : [i0, i0 + 1, f - i0];
  };
  const columns = Array.from({ length: to }, (_, x) => coordinates(x));
  for (let y = 0; y < to; y++) {
    const [y0, y1, ty] = coordinates(y);
    for (let x = 0; x < to; x++) {
      const [x0, x1, tx] = columns[x];
      const o = (x + y * to) * 3;
      const a = (x0 + y0 * from) * 3, b = (x1 + y0 * from) * 3, c = (x0 + y1 * from) * 3, d = (x1 + y1 * from) * 3;
      for (let k = 0; k < 3; k++) {
        const top = rgb[a + k] + (rgb[b + k] - rgb[a + k]) * tx;
        const bottom = rgb[c + k] + (rgb[d + k] - rgb[c + k]) * tx;
        out[o + k] = top + (bottom - top) * ty;
      }
    }
  }
  return out;
}
