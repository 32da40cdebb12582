/**
 * IEEE 754 binary16 rounding for the sampler schedule (the released code keeps its DDPM buffers in
 * float16). `Math.fround` rounds to float32, which is not what torch's `.half()` gives.
 */

const MIN_NORMAL = 2 ** -14;
const MAX_FINITE = 65504;
/** Half of the smallest subnormal step: values whose magnitude rounds past 65520 overflow to ∞. */
const OVERFLOW = 65520;

/**
 * Rounds a float64 to the nearest float16 value (ties to even), returned as a float64: what
 * `torch.tensor(x, dtype=torch.float16).item()` gives. Keeps the sign of zero; NaN stays NaN;
 * magnitudes ≥ 65520 become ±∞, subnormals are rounded on the 2⁻²⁴ grid.
 *
 * @example
 * roundToFloat16(0.1); // 0.0999755859375
 */
export function roundToFloat16(value: number): number {
  if (!Number.isFinite(value) || value === 0) return value;
  const sign = value < 0 ? -1 : 1;
  const magnitude = Math.abs(value);
  if (magnitude >= OVERFLOW) return sign * Infinity;
  // The spacing of float16 values around `magnitude`: 2^(e−10) for normals, 2^−24 for subnormals.
  const exponent = magnitude < MIN_NORMAL ? -14 : Math.floor(Math.log2(magnitude));
  // log2 can be off by one next to powers of two; correct it so that 2^e ≤ magnitude < 2^(e+1).
  let e = exponent;
  if (magnitude >= MIN_NORMAL) {
    if (2 ** e > magnitude) e--;
    else if (2 ** (e + 1) <= magnitude) e++;
  }
  const ulp = 2 ** (e - 10);
  // magnitude / ulp is exact (a power-of-two scaling), so the tie test is exact too.
  const scaled = magnitude / ulp;
  const floor = Math.floor(scaled);
  const fraction = scaled - floor;
  let rounded = floor;
  if (fraction > 0.5 || (fraction === 0.5 && floor % 2 === 1)) rounded = floor + 1;
  const result = rounded * ulp;
  return sign * (result > MAX_FINITE ? Infinity : result);
}

/** Rounds every element of `values` to float16 in place and returns it. */
export function roundArrayToFloat16<T extends Float64Array | Float32Array>(values: T): T {
  for (let i = 0; i < values.length; i++) values[i] = roundToFloat16(values[i]);
  return values;
}
