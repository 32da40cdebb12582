import { WORKGROUP_SIZE } from './common.js';

/** Huber's transition point (render/ray-marcher.ts uses the same 0.1). */
const HUBER_DELTA = '0.1';

/**
 * Compositing forward with early termination and the colour loss, for training and rendering.
 * The host marched each ray through the occupancy grid without knowing the field, so a ray's
 * sample list runs to the end of its occupied cells; this kernel composites front to back and
 * stops after the first sample that takes the transmittance below `min_transmittance`, exactly
 * where RayMarcher.render stops, and writes the number of samples it used back into the ray's
 * range (so the backward kernels see the CPU marcher's sample list). Then, per ray, the loss
 * gradient dL/d(composite) = lossScale·(2e | Huber'(e)) with e = colour − target, and opacity
 * gradient 0 (RayMarcher.train).
 * Bindings: 0 uniform {rays, loss (0 = L2, 1 = Huber), loss_scale, min_transmittance},
 * 1 ranges (rw u32 pairs), 2 samples (vec4 σ, r, g, b), 3 deltas, 4 background (3 per ray),
 * 5 target (3 per ray), 6 composite (rw vec4), 7 weights (rw), 8 d_composite (rw vec4).
 */
export function compositeLossWgsl(): string {
  return /* wgsl */ `
struct Uniforms { rays: u32, loss: u32, loss_scale: f32, min_transmittance: f32 }
@group(0) @binding(0) var<uniform> uniforms: Uniforms;
@group(0) @binding(1) var<storage, read_write> ranges: array<u32>;
@group(0) @binding(2) var<storage, read> samples: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> deltas: array<f32>;
@group(0) @binding(4) var<storage, read> background: array<f32>;
@group(0) @binding(5) var<storage, read> target_color: array<f32>;
@group(0) @binding(6) var<storage, read_write> composite: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read_write> weights: array<f32>;
@group(0) @binding(8) var<storage, read_write> d_composite: array<vec4<f32>>;
@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let ray = id.x;
  if (ray >= uniforms.rays) { return; }
  let start = ranges[2u * ray];
  let end = start + ranges[2u * ray + 1u];
  var transmittance = 1.0;
  var color = vec3<f32>(0.0);
  var used = 0u;
  for (var i = start; i < end; i++) {
    let s = samples[i];
    let alpha = 1.0 - exp(-s.x * deltas[i]);
    let w = transmittance * alpha;
    weights[i] = w;
    color += w * s.yzw;
    transmittance *= 1.0 - alpha;
    used++;
    if (transmittance < uniforms.min_transmittance) { break; }
  }
  ranges[2u * ray + 1u] = used;
  let bg = vec3<f32>(background[3u * ray], background[3u * ray + 1u], background[3u * ray + 2u]);
  let c = color + transmittance * bg;
  composite[ray] = vec4<f32>(c, 1.0 - transmittance);
  let e = c - vec3<f32>(target_color[3u * ray], target_color[3u * ray + 1u], target_color[3u * ray + 2u]);
  var g = 2.0 * e;
  if (uniforms.loss == 1u) {
    g = select(sign(e), e / ${HUBER_DELTA}, abs(e) <= vec3<f32>(${HUBER_DELTA}));
  }
  d_composite[ray] = vec4<f32>(uniforms.loss_scale * g, 0.0);
}
`;
}
