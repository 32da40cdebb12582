/**
 * The colour guided filter (He, Sun and Tang, "Guided Image Filtering", 2010/2013): edge-aware
 * smoothing of a single-channel image `p` steered by an RGB guide `I`. Within every (2r+1)² window
 * the output is a linear function of the guide's colour, fitted to `p` by ridge regression with
 * regulariser `eps`; the per-window fits are averaged. Used to carry a coarse segmentation's edge
 * onto the crop's own colour edges (hair strands, ears), so a low-resolution matte model gives a
 * sharp alpha at full resolution.
 */

/** Mean over the (2r+1)² window around each pixel, clamped at the borders (divides by the pixels inside). */
export function boxMean(values: Float32Array, width: number, height: number, radius: number): Float32Array {
  const rows = new Float64Array(values.length);
  // Horizontal running sums, then vertical: O(1) per pixel whatever the radius.
  for (let y = 0; y < height; y++) {
    const row = y * width;
    let sum = 0;
    for (let x = 0; x <= Math.min(radius, width - 1); x++) sum += values[row + x];
    for (let x = 0; x < width; x++) {
      rows[row + x] = sum;
      const add = x + radius + 1;
      const drop = x - radius;
      if (add < width) sum += values[row + add];
      if (drop >= 0) sum -= values[row + drop];
    }
  }
  const out = new Float32Array(values.length);
  for (let x = 0; x < width; x++) {
    let sum = 0;
    for (let y = 0; y <= Math.min(radius, height - 1); y++) sum += rows[y * width + x];
    const spanX = Math.min(x + radius, width - 1) - Math.max(x - radius, 0) + 1;
    for (let y = 0; y < height; y++) {
      const spanY = Math.min(y + radius, height - 1) - Math.max(y - radius, 0) + 1;
      out[y * width + x] = sum / (spanX * spanY);
      const add = y + radius + 1;
      const drop = y - radius;
      if (add < height) sum += rows[add * width + x];
      if (drop >= 0) sum -= rows[drop * width + x];
    }
  }
  return out;
}

export interface GuidedFilterOptions {
  /** Window radius in pixels. */
  radius: number;
  /** Ridge regulariser on the guide's colour covariance (guide values in [0, 1]): larger smooths more across weak edges. */
  eps: number;
}

/**
 * Filters `input` (one float per pixel) with the RGB(A) bytes of `guide` as the guide (colours
 * scaled to [0, 1]; alpha ignored). Returns a new array; the output is not clamped.
 */
export function guidedFilter(guide: { width: number; height: number; data: Uint8Array }, input: Float32Array, options: GuidedFilterOptions): Float32Array {
  const { width, height, data } = guide;
  const n = width * height;
  if (input.length !== n) throw new Error(`guidedFilter: input has ${input.length} values for a ${width}×${height} guide`);
  const { radius, eps } = options;
  const mean = (values: Float32Array) => boxMean(values, width, height, radius);

  const channel = (c: number) => {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = data[i * 4 + c] / 255;
    return out;
  };
  const [r, g, b] = [channel(0), channel(1), channel(2)];
  const product = (u: Float32Array, v: Float32Array) => {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = u[i] * v[i];
    return out;
  };
  const [meanR, meanG, meanB, meanP] = [mean(r), mean(g), mean(b), mean(input)];
  const [rr, rg, rb, gg, gb, bb] = [mean(product(r, r)), mean(product(r, g)), mean(product(r, b)), mean(product(g, g)), mean(product(g, b)), mean(product(b, b))];
  const [rp, gp, bp] = [mean(product(r, input)), mean(product(g, input)), mean(product(b, input))];

  // Per window: a = (Σ + eps·I)⁻¹ cov(I, p), b = mean(p) − a·mean(I). Σ is symmetric 3×3.
  const aR = new Float32Array(n), aG = new Float32Array(n), aB = new Float32Array(n), offset = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const mr = meanR[i], mg = meanG[i], mb = meanB[i], mp = meanP[i];
    const s00 = rr[i] - mr * mr + eps, s01 = rg[i] - mr * mg, s02 = rb[i] - mr * mb;
    const s11 = gg[i] - mg * mg + eps, s12 = gb[i] - mg * mb, s22 = bb[i] - mb * mb + eps;
    const cr = rp[i] - mr * mp, cg = gp[i] - mg * mp, cb = bp[i] - mb * mp;
    // Inverse by cofactors (symmetric).
    const c00 = s11 * s22 - s12 * s12, c01 = s02 * s12 - s01 * s22, c02 = s01 * s12 - s02 * s11;
    const c11 = s00 * s22 - s02 * s02, c12 = s01 * s02 - s00 * s12, c22 = s00 * s11 - s01 * s01;
    const det = s00 * c00 + s01 * c01 + s02 * c02;
    const ar = (c00 * cr + c01 * cg + c02 * cb) / det;
    const ag = (c01 * cr + c11 * cg + c12 * cb) / det;
    const ab = (c02 * cr + c12 * cg + c22 * cb) / det;
    aR[i] = ar; aG[i] = ag; aB[i] = ab;
    offset[i] = mp - ar * mr - ag * mg - ab * mb;
  }
  const [mAR, mAG, mAB, mOffset] = [mean(aR), mean(aG), mean(aB), mean(offset)];
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = mAR[i] * r[i] + mAG[i] * g[i] + mAB[i] * b[i] + mOffset[i];
  return out;
}
