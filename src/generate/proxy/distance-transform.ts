/**
 * Signed Euclidean distance to the edge of a binary mask, in pixels (negative inside), from
 * Felzenszwalb and Huttenlocher's exact squared-distance transform run on the mask and on its
 * complement. The edge sits half a pixel outside the inside pixels' centres.
 */
export function signedDistance(inside: Uint8Array, width: number, height: number): Float32Array {
  const toOutside = squaredDistanceTo(inside, width, height, 0);
  const toInside = squaredDistanceTo(inside, width, height, 1);
  const out = new Float32Array(width * height);
  for (let i = 0; i < out.length; i++) {
    out[i] = inside[i] ? 0.5 - Math.sqrt(toOutside[i]) : Math.sqrt(toInside[i]) - 0.5;
  }
  return out;
}

/** Squared distance from every pixel to the nearest pixel whose mask value is `target`. */
function squaredDistanceTo(mask: Uint8Array, width: number, height: number, target: number): Float64Array {
  const INF = 1e20;
  const d = new Float64Array(width * height);
  for (let i = 0; i < d.length; i++) d[i] = mask[i] === target ? 0 : INF;
  const n = Math.max(width, height);
  const f = new Float64Array(n), out = new Float64Array(n), z = new Float64Array(n + 1);
  const v = new Int32Array(n);
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < height; y++) f[y] = d[y * width + x];
    transform1d(f, height, out, v, z);
    for (let y = 0; y < height; y++) d[y * width + x] = out[y];
  }
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) f[x] = d[y * width + x];
    transform1d(f, width, out, v, z);
    for (let x = 0; x < width; x++) d[y * width + x] = out[x];
  }
  return d;
}

/** 1-D squared distance transform (lower envelope of parabolas). */
function transform1d(f: Float64Array, n: number, out: Float64Array, v: Int32Array, z: Float64Array): void {
  let k = 0;
  v[0] = 0;
  z[0] = -Infinity;
  z[1] = Infinity;
  for (let q = 1; q < n; q++) {
    let s = (f[q] + q * q - (f[v[k]] + v[k] * v[k])) / (2 * q - 2 * v[k]);
    while (s <= z[k]) {
      k--;
      s = (f[q] + q * q - (f[v[k]] + v[k] * v[k])) / (2 * q - 2 * v[k]);
    }
    k++;
    v[k] = q;
    z[k] = s;
    z[k + 1] = Infinity;
  }
  k = 0;
  for (let q = 0; q < n; q++) {
    while (z[k + 1] < q) k++;
    out[q] = (q - v[k]) ** 2 + f[v[k]];
  }
}

/** Bilinear lookup in a float image with clamped edges; (x, y) in pixel units, pixel centres at +0.5. */
export function sampleFloat(values: Float32Array, width: number, height: number, x: number, y: number): number {
  const fx = Math.min(width - 1, Math.max(0, x - 0.5));
  const fy = Math.min(height - 1, Math.max(0, y - 0.5));
  const x0 = Math.min(width - 2, Math.floor(fx)), y0 = Math.min(height - 2, Math.floor(fy));
  const tx = fx - x0, ty = fy - y0;
  const i = y0 * width + x0;
  return (values[i] * (1 - tx) + values[i + 1] * tx) * (1 - ty) + (values[i + width] * (1 - tx) + values[i + width + 1] * tx) * ty;
}
