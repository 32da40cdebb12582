/** Spherical-harmonics DC constant: colour = 0.5 + SH_C0 · f_dc. */
export const SH_C0 = 0.28209479177387814;

/**
 * A set of 3D Gaussians in the glTF frame (metres, +Y up, face toward +Z), stored the way
 * KHR_gaussian_splatting wants them: linear scales (standard deviations, metres), xyzw unit
 * quaternions, linear opacity in [0, 1] and degree-0 SH coefficients (colour = 0.5 + SH_C0·dc,
 * in sRGB display values).
 */
export interface SplatCloud {
  count: number;
  positions: Float32Array;
  scales: Float32Array;
  rotations: Float32Array;
  opacities: Float32Array;
  sh0: Float32Array;
}

/** The display colour (sRGB, clamped to [0, 1]) of splat `i`. */
export function splatColor(cloud: SplatCloud, i: number): [number, number, number] {
  const c = (k: number): number => Math.min(1, Math.max(0, 0.5 + SH_C0 * cloud.sh0[i * 3 + k]));
  return [c(0), c(1), c(2)];
}
