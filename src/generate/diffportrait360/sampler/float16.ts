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

const F32_INFINITY_BITS = 0x7f800000;
/** 65520 as float32 bits: magnitudes from here on round to ±∞ in float16. */
const F16_OVERFLOW_BITS = 0x477ff000;
/** 2⁻¹⁴ (the smallest normal float16) as float32 bits. */
const F16_MIN_NORMAL_BITS = 0x38800000;

/**
 * IEEE binary16 bit patterns of float32 values, rounded to nearest, ties to even (the same values as
 * `roundToFloat16`, but bit manipulation: fast enough for GBs of weights). NaN stays a quiet NaN.
 *
 * @example
 * float32ToFloat16Bits(Float32Array.of(1, -2, 65504)); // Uint16Array [0x3c00, 0xc000, 0x7bff]
 */
export function float32ToFloat16Bits(values: Float32Array, out = new Uint16Array(values.length)): Uint16Array {
  if (out.length !== values.length) throw new Error(`float32ToFloat16Bits: output has ${out.length} slots for ${values.length} values`);
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  for (let i = 0; i < bits.length; i++) {
    const x = bits[i]!;
    const sign = (x >>> 16) & 0x8000;
    const magnitude = x & 0x7fffffff;
    let h: number;
    if (magnitude >= F32_INFINITY_BITS) h = magnitude > F32_INFINITY_BITS ? 0x7e00 : 0x7c00;
    else if (magnitude >= F16_OVERFLOW_BITS) h = 0x7c00;
    else if (magnitude >= F16_MIN_NORMAL_BITS) {
      h = ((((magnitude >>> 23) - 112) << 10) | ((magnitude >>> 13) & 0x3ff)) >>> 0;
      const rest = magnitude & 0x1fff;
      if (rest > 0x1000 || (rest === 0x1000 && (h & 1) === 1)) h++; // a carry into the exponent is still correct
    } else {
      // Subnormal (or zero): a multiple of 2⁻²⁴; the float64 product is exact.
      const scaled = Math.abs(values[i]!) * 2 ** 24;
      h = Math.round(scaled);
      if (h - scaled === 0.5 && (h & 1) === 1) h--;
    }
    out[i] = sign | h;
  }
  return out;
}

/** The value of a float16 bit pattern (for reading fp16 tensors back). */
export function float16BitsToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >>> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : Number.NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}
