import type { FloatArray } from '../field/field.js';

/**
 * Front-to-back emission–absorption compositing of one ray's samples over a background colour:
 *   C = Σ wᵢ cᵢ + T_n·bg,  wᵢ = Tᵢ (1 − e^(−σᵢ δᵢ)),  Tᵢ = Π_{j<i} e^(−σⱼ δⱼ),  opacity A = 1 − T_n.
 * `weights[i]` receives wᵢ; the function returns T_n.
 */
export function compositeForward(
  n: number, sigma: FloatArray, rgb: FloatArray, delta: FloatArray, background: ArrayLike<number>,
  out: FloatArray, weights: FloatArray,
): number {
  let transmittance = 1;
  let r = 0, g = 0, b = 0;
  for (let i = 0; i < n; i++) {
    const alpha = 1 - Math.exp(-sigma[i] * delta[i]);
    const w = transmittance * alpha;
    weights[i] = w;
    r += w * rgb[i * 3];
    g += w * rgb[i * 3 + 1];
    b += w * rgb[i * 3 + 2];
    transmittance *= 1 - alpha;
  }
  out[0] = r + transmittance * background[0];
  out[1] = g + transmittance * background[1];
  out[2] = b + transmittance * background[2];
  out[3] = 1 - transmittance;
  return transmittance;
}

/**
 * Gradients of the composite with respect to each sample's σ and colour, given dL/dC (3 values)
 * and dL/dA. Uses ∂C/∂σᵢ = δᵢ (Tᵢ₊₁ cᵢ − Rᵢ) with Rᵢ = Σ_{j>i} wⱼ cⱼ + T_n·bg, and ∂A/∂σᵢ = δᵢ T_n.
 */
export function compositeBackward(
  n: number, rgb: FloatArray, delta: FloatArray, background: ArrayLike<number>,
  weights: FloatArray, finalTransmittance: number, dColor: ArrayLike<number>, dOpacity: number,
  dSigma: FloatArray, dRgb: FloatArray,
): void {
  let restR = finalTransmittance * background[0];
  let restG = finalTransmittance * background[1];
  let restB = finalTransmittance * background[2];
  // Transmittance after sample i, walked backwards with T_i = T_{i+1} + w_i (a sum of positives, stable).
  let after = finalTransmittance;
  for (let i = n - 1; i >= 0; i--) {
    const w = weights[i];
    dRgb[i * 3] = w * dColor[0];
    dRgb[i * 3 + 1] = w * dColor[1];
    dRgb[i * 3 + 2] = w * dColor[2];
    const cr = rgb[i * 3], cg = rgb[i * 3 + 1], cb = rgb[i * 3 + 2];
    dSigma[i] = delta[i] * (dColor[0] * (after * cr - restR) + dColor[1] * (after * cg - restG) + dColor[2] * (after * cb - restB) + dOpacity * finalTransmittance);
    restR += w * cr;
    restG += w * cg;
    restB += w * cb;
    after += w;
  }
}
