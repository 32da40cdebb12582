/** Largest |actual − expected| divided by the largest |expected| (so 1e-6 means six digits agree). */
export function relativeMaxError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let error = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    error = Math.max(error, Math.abs(actual[i]! - expected[i]!));
    scale = Math.max(scale, Math.abs(expected[i]!));
  }
  return error / Math.max(scale, 1e-30);
}
