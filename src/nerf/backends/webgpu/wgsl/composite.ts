import { WORKGROUP_SIZE } from './common.js';

/**
 * Volume compositing per ray, matching render/volume.ts. A batch holds R rays whose samples are
 * contiguous: ray r owns samples [range[2r], range[2r] + range[2r+1]). Per sample the field gives
 * (σ, r, g, b) as a vec4 and a step length δ.
 */
const COMMON = /* wgsl */ `
struct Uniforms { rays: u32 }
@group(0) @binding(0) var<uniform> uniforms: Uniforms;
@group(0) @binding(1) var<storage, read> ranges: array<u32>;
@group(0) @binding(2) var<storage, read> samples: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> deltas: array<f32>;
@group(0) @binding(4) var<storage, read> background: array<f32>;
`;

/**
 * Forward: composite (r, g, b, opacity) per ray and each sample's weight wᵢ = Tᵢ(1 − e^(−σᵢδᵢ)).
 * Bindings 0–4 as above, 5 composite (vec4 per ray, rw), 6 weights (rw).
 */
export function compositeForwardWgsl(): string {
  return /* wgsl */ `${COMMON}
@group(0) @binding(5) var<storage, read_write> composite: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read_write> weights: array<f32>;
@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let ray = id.x;
  if (ray >= uniforms.rays) { return; }
  let start = ranges[2u * ray];
  let end = start + ranges[2u * ray + 1u];
  var transmittance = 1.0;
  var color = vec3<f32>(0.0);
  for (var i = start; i < end; i++) {
    let s = samples[i];
    let alpha = 1.0 - exp(-s.x * deltas[i]);
    let w = transmittance * alpha;
    weights[i] = w;
    color += w * s.yzw;
    transmittance *= 1.0 - alpha;
  }
  let bg = vec3<f32>(background[3u * ray], background[3u * ray + 1u], background[3u * ray + 2u]);
  composite[ray] = vec4<f32>(color + transmittance * bg, 1.0 - transmittance);
}
`;
}

/**
 * Backward: from dL/d(composite) per ray (vec4: colour, opacity) to dL/d(σ, r, g, b) per sample,
 * walking the ray back to front as compositeBackward does (T = 1 − opacity).
 * Bindings 0–4 as above, 5 weights, 6 composite, 7 dComposite, 8 dSamples (vec4 per sample, rw).
 */
export function compositeBackwardWgsl(): string {
  return /* wgsl */ `${COMMON}
@group(0) @binding(5) var<storage, read> weights: array<f32>;
@group(0) @binding(6) var<storage, read> composite: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read> d_composite: array<vec4<f32>>;
@group(0) @binding(8) var<storage, read_write> d_samples: array<vec4<f32>>;
@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let ray = id.x;
  if (ray >= uniforms.rays) { return; }
  let start = ranges[2u * ray];
  let count = ranges[2u * ray + 1u];
  let final_t = 1.0 - composite[ray].w;
  let d_color = d_composite[ray].xyz;
  let d_opacity = d_composite[ray].w;
  let bg = vec3<f32>(background[3u * ray], background[3u * ray + 1u], background[3u * ray + 2u]);
  var rest = final_t * bg;
  var after = final_t;
  for (var k = count; k > 0u; k--) {
    let i = start + k - 1u;
    let w = weights[i];
    let c = samples[i].yzw;
    let d_sigma = deltas[i] * (dot(d_color, after * c - rest) + d_opacity * final_t);
    d_samples[i] = vec4<f32>(d_sigma, w * d_color);
    rest += w * c;
    after += w;
  }
}
`;
}
