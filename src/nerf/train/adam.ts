import type { AdamSettings } from '../backends/backend.js';

/**
 * The fit's Adam step over parameters [from, to), the reference every backend matches
 * (instant-ngp's settings: β 0.9/0.99, ε 1e-15, L2 on the MLP weights only). The gradient of
 * parameter i is the sum of `grads[w][i]` over the gradient buffers in order (one per CPU worker;
 * they are zeroed as they are read). Hash-table entries (i < `encodingSize`) whose summed gradient
 * is exactly 0 — entries no ray touched — are skipped and keep their moments, as in instant-ngp.
 * Arithmetic is float64 on float32 storage.
 * @example
 * adamStep(params, m, v, [grads], 0, params.length, layout.encodingSize, step, { ...ADAM_DEFAULTS, learningRate: 1e-2 });
 */
export function adamStep(
  params: Float32Array, m: Float32Array, v: Float32Array, grads: Float32Array[],
  from: number, to: number, encodingSize: number, step: number, settings: AdamSettings,
): void {
  const { learningRate, beta1, beta2, epsilon, weightDecay } = settings;
  const correction1 = 1 - beta1 ** step;
  const correction2 = 1 - beta2 ** step;
  const stepSize = learningRate / correction1;
  for (let i = from; i < to; i++) {
    let g = 0;
    for (let w = 0; w < grads.length; w++) {
      g += grads[w][i];
      grads[w][i] = 0;
    }
    if (i < encodingSize) {
      if (g === 0) continue; // hash entries no ray touched keep their moments (instant-ngp does the same)
    } else {
      g += weightDecay * params[i];
    }
    m[i] = beta1 * m[i] + (1 - beta1) * g;
    v[i] = beta2 * v[i] + (1 - beta2) * g * g;
    params[i] -= (stepSize * m[i]) / (Math.sqrt(v[i] / correction2) + epsilon);
  }
}
