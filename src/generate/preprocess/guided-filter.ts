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

/** Three colour planes in [0, 1] and their size. */
interface ColourPlanes { width: number; height: number; r: Float32Array; g: Float32Array; b: Float32Array }

function colourPlanes(image: { width: number; height: number; data: Uint8Array }): ColourPlanes {
  const n = image.width * image.height;
  const [r, g, b] = [new Float32Array(n), new Float32Array(n), new Float32Array(n)];
  for (let i = 0; i < n; i++) {
    r[i] = image.data[i * 4] / 255;
    g[i] = image.data[i * 4 + 1] / 255;
    b[i] = image.data[i * 4 + 2] / 255;
  }
  return { width: image.width, height: image.height, r, g, b };
}

/**
 * The guided filter's per-pixel linear model, averaged over the windows: q = aR·R + aG·G + aB·B + offset.
 */
function windowedCoefficients(guide: ColourPlanes, input: Float32Array, radius: number, eps: number) {
  const { width, height, r, g, b } = guide;
  const n = width * height;
  const mean = (values: Float32Array) => boxMean(values, width, height, radius);
  const product = (u: Float32Array, v: Float32Array) => {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = u[i] * v[i];
    return out;
  };
  const [meanR, meanG, meanB, meanP] = [mean(r), mean(g), mean(b), mean(input)];
  const [rr, rg, rb, gg, gb, bb] = [mean(product(r, r)), mean(product(r, g)), mean(product(r, b)), mean(product(g, g)), mean(product(g, b)), mean(product(b, b))];
  const [rp, gp, bp] = [mean(product(r, input)), mean(product(g, input)), mean(product(b, input))];

  // Per window: a = (Σ + eps·I)⁻¹ cov(I, p), offset = mean(p) − a·mean(I). Σ is symmetric 3×3.
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
  return { aR: mean(aR), aG: mean(aG), aB: mean(aB), offset: mean(offset) };
}

/**
 * Filters `input` (one float per pixel) with the RGB(A) bytes of `guide` as the guide (colours
 * scaled to [0, 1]; alpha ignored). Returns a new array; the output is not clamped.
 */
export function guidedFilter(guide: { width: number; height: number; data: Uint8Array }, input: Float32Array, options: GuidedFilterOptions): Float32Array {
  const { width, height } = guide;
  const n = width * height;
  if (input.length !== n) throw new Error(`guidedFilter: input has ${input.length} values for a ${width}×${height} guide`);
  const planes = colourPlanes(guide);
  const { aR, aG, aB, offset } = windowedCoefficients(planes, input, options.radius, options.eps);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = aR[i] * planes.r[i] + aG[i] * planes.g[i] + aB[i] * planes.b[i] + offset[i];
  return out;
}

/**
 * The fast guided filter (He and Sun, 2015): the linear model is fitted at the input's own lower
 * resolution against an area-averaged copy of the guide, its coefficients are resampled bilinearly
 * to the guide's full size and applied to the full-size colours. Costs about the filter at the low
 * resolution, and still puts edges where the full-size guide has them. `radius` is in low-resolution pixels.
 */
export function fastGuidedFilter(
  guide: { width: number; height: number; data: Uint8Array },
  input: { width: number; height: number; values: Float32Array },
  options: GuidedFilterOptions,
): Float32Array {
  const { width, height, data } = guide;
  const { width: w, height: h } = input;
  const low = areaDownsample(guide, w, h);
  const { aR, aG, aB, offset } = windowedCoefficients(low, input.values, options.radius, options.eps);
  // Coefficients resampled bilinearly (pixel centres aligned, edges clamped) and applied in one pass.
  const out = new Float32Array(width * height);
  const sx = w / width, sy = h / height;
  for (let y = 0; y < height; y++) {
    const fy = Math.min(h - 1, Math.max(0, (y + 0.5) * sy - 0.5));
    const y0 = Math.floor(fy), ty = fy - y0;
    const row0 = y0 * w, row1 = Math.min(h - 1, y0 + 1) * w;
    for (let x = 0; x < width; x++) {
      const fx = Math.min(w - 1, Math.max(0, (x + 0.5) * sx - 0.5));
      const x0 = Math.floor(fx), x1 = Math.min(w - 1, x0 + 1), tx = fx - x0;
      const w00 = (1 - tx) * (1 - ty), w01 = tx * (1 - ty), w10 = (1 - tx) * ty, w11 = tx * ty;
      const i00 = row0 + x0, i01 = row0 + x1, i10 = row1 + x0, i11 = row1 + x1;
      const r = aR[i00] * w00 + aR[i01] * w01 + aR[i10] * w10 + aR[i11] * w11;
      const g = aG[i00] * w00 + aG[i01] * w01 + aG[i10] * w10 + aG[i11] * w11;
      const b = aB[i00] * w00 + aB[i01] * w01 + aB[i10] * w10 + aB[i11] * w11;
      const o = offset[i00] * w00 + offset[i01] * w01 + offset[i10] * w10 + offset[i11] * w11;
      const p = (y * width + x) * 4;
      out[y * width + x] = (r * data[p] + g * data[p + 1] + b * data[p + 2]) / 255 + o;
    }
  }
  return out;
}

/** Colour planes at width × height, each pixel the mean of the guide pixels whose centres fall in its footprint. */
function areaDownsample(guide: { width: number; height: number; data: Uint8Array }, width: number, height: number): ColourPlanes {
  const n = width * height;
  const out: ColourPlanes = { width, height, r: new Float32Array(n), g: new Float32Array(n), b: new Float32Array(n) };
  const sx = guide.width / width, sy = guide.height / height;
  for (let y = 0; y < height; y++) {
    const y0 = Math.floor(y * sy), y1 = Math.max(y0 + 1, Math.floor((y + 1) * sy));
    for (let x = 0; x < width; x++) {
      const x0 = Math.floor(x * sx), x1 = Math.max(x0 + 1, Math.floor((x + 1) * sx));
      let r = 0, g = 0, b = 0;
      for (let v = y0; v < y1; v++) {
        for (let u = x0; u < x1; u++) {
          const p = (v * guide.width + u) * 4;
          r += guide.data[p];
          g += guide.data[p + 1];
          b += guide.data[p + 2];
        }
      }
      const scale = 1 / (255 * (y1 - y0) * (x1 - x0));
      const o = y * width + x;
      out.r[o] = r * scale;
      out.g[o] = g * scale;
      out.b[o] = b * scale;
    }
  }
  return out;
}

/** Bilinear resampling of one plane (pixel centres aligned, edges clamped). */
export function bilinearResample(values: Float32Array, w: number, h: number, width: number, height: number): Float32Array {
  const out = new Float32Array(width * height);
  const sx = w / width, sy = h / height;
  for (let y = 0; y < height; y++) {
    const fy = Math.min(h - 1, Math.max(0, (y + 0.5) * sy - 0.5));
    const y0 = Math.floor(fy), y1 = Math.min(h - 1, y0 + 1), ty = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.min(w - 1, Math.max(0, (x + 0.5) * sx - 0.5));
      const x0 = Math.floor(fx), x1 = Math.min(w - 1, x0 + 1), tx = fx - x0;
      const top = values[y0 * w + x0] * (1 - tx) + values[y0 * w + x1] * tx;
      const bottom = values[y1 * w + x0] * (1 - tx) + values[y1 * w + x1] * tx;
      out[y * width + x] = top * (1 - ty) + bottom * ty;
    }
  }
  return out;
}
