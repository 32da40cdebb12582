import { WORKGROUP_SIZE } from './common.js';

/** Workgroups the Adam kernel is dispatched with; each invocation strides over the vector. */
export const ADAM_WORKGROUPS = 4096;

/**
 * Adam over the whole parameter vector, matching train/adam.ts (adamStep) in float32: reads and
 * zeroes each gradient, skips hash-table entries (index < encoding_size) whose gradient is exactly
 * 0, adds `weight_decay`·θ to the MLP parameters' gradients, and updates m, v, θ with the
 * host-computed step size lr/(1−β1ᵗ) and bias correction 1−β2ᵗ. A grid-stride loop covers any
 * vector length with one dispatch of {@link ADAM_WORKGROUPS} workgroups.
 * Bindings: 0 uniform AdamUniforms, 1 params (rw), 2 m (rw), 3 v (rw), 4 grads (rw).
 */
export function adamWgsl(): string {
  return /* wgsl */ `
struct AdamUniforms {
  count: u32, encoding_size: u32, pad0: u32, pad1: u32,
  step_size: f32, correction2: f32, beta1: f32, beta2: f32,
  one_minus_beta1: f32, one_minus_beta2: f32, epsilon: f32, weight_decay: f32,
}
@group(0) @binding(0) var<uniform> u: AdamUniforms;
@group(0) @binding(1) var<storage, read_write> params: array<f32>;
@group(0) @binding(2) var<storage, read_write> m: array<f32>;
@group(0) @binding(3) var<storage, read_write> v: array<f32>;
@group(0) @binding(4) var<storage, read_write> grads: array<f32>;
@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let stride = groups.x * ${WORKGROUP_SIZE}u;
  for (var i = id.x; i < u.count; i += stride) {
    var g = grads[i];
    if (i < u.encoding_size) {
      if (g == 0.0) { continue; }
    } else {
      g += u.weight_decay * params[i];
    }
    grads[i] = 0.0;
    let mi = u.beta1 * m[i] + u.one_minus_beta1 * g;
    let vi = u.beta2 * v[i] + u.one_minus_beta2 * g * g;
    m[i] = mi;
    v[i] = vi;
    params[i] -= (u.step_size * mi) / (sqrt(vi / u.correction2) + u.epsilon);
  }
}
`;
}

/** The Adam kernel's uniform words for one step (float fields as their f32 bits). */
export function adamUniformWords(
  count: number, encodingSize: number, step: number,
  settings: { learningRate: number; beta1: number; beta2: number; epsilon: number; weightDecay: number },
): number[] {
  const { learningRate, beta1, beta2, epsilon, weightDecay } = settings;
  const floats = new Float32Array([
    learningRate / (1 - beta1 ** step), 1 - beta2 ** step, beta1, beta2, 1 - beta1, 1 - beta2, epsilon, weightDecay,
  ]);
  return [count, encodingSize, 0, 0, ...new Uint32Array(floats.buffer)];
}
