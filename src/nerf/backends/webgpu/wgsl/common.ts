/** Invocations per workgroup for every kernel: within the compatibility limit of 128. */
export const WORKGROUP_SIZE = 64;

/** A WGSL float literal that round-trips the JS number's float32 value. */
export function f32(value: number): string {
  const v = Math.fround(value);
  if (!Number.isFinite(v)) throw new Error(`non-finite WGSL literal ${value}`);
  return Number.isInteger(v) ? `${v}.0` : `${v}`;
}

/** A `var<private>` table of u32 constants, indexable at run time. */
export function u32Table(name: string, values: number[]): string {
  return `var<private> ${name}: array<u32, ${values.length}> = array<u32, ${values.length}>(${values.map((v) => `${v >>> 0}u`).join(', ')});`;
}

/**
 * Float add on a storage word without float atomics: a compare-and-swap loop on the f32 bits in
 * an `atomic<u32>` (the value is exact fp32 addition; only the order of concurrent adds varies).
 * `BUFFER` is the name of an `array<atomic<u32>>` storage variable.
 */
export function atomicAddF32(buffer: string): string {
  return /* wgsl */ `
fn atomic_add_f32(index: u32, value: f32) {
  var old = atomicLoad(&${buffer}[index]);
  loop {
    let result = atomicCompareExchangeWeak(&${buffer}[index], old, bitcast<u32>(bitcast<f32>(old) + value));
    if (result.exchanged) { break; }
    old = result.old_value;
  }
}
`;
}
