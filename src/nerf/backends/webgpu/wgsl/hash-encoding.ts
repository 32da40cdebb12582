import type { GpuFieldLayout } from '../layout.js';
import { WORKGROUP_SIZE, atomicAddF32, u32Table } from './common.js';

/**
 * WGSL for the multiresolution hash encoding, matching FieldKernels.encode / encodeBackward:
 * per level, the 8 corners of the point's cell (dense indexing where the level's grid fits the
 * table, the instant-ngp spatial hash otherwise), trilinear weights, `featuresPerLevel` floats per entry.
 */
function cornerCode(layout: GpuFieldLayout, featuresPerLevel: number): string {
  const levels = layout.params.levels;
  return /* wgsl */ `
const LEVELS = ${levels.length}u;
const F = ${featuresPerLevel}u;
${u32Table('LEVEL_RES', levels.map((l) => l.resolution))}
${u32Table('LEVEL_OFFSET', levels.map((l) => l.offset))}
${u32Table('LEVEL_DENSE', levels.map((l) => (l.dense ? 1 : 0)))}
${u32Table('LEVEL_MASK', levels.map((l) => l.size - 1))}
const PRIME_Y = 2654435761u;
const PRIME_Z = 805459861u;

var<private> corner_index: array<u32, 8>;
var<private> corner_weight: array<f32, 8>;

fn corners(l: u32, u: vec3<f32>) {
  let r = LEVEL_RES[l];
  var p = u * f32(r);
  let c0 = min(vec3<u32>(floor(p)), vec3<u32>(r - 1u));
  p = p - vec3<f32>(c0);
  let q = vec3<f32>(1.0) - p;
  corner_weight[0] = q.x * q.y * q.z; corner_weight[1] = p.x * q.y * q.z;
  corner_weight[2] = q.x * p.y * q.z; corner_weight[3] = p.x * p.y * q.z;
  corner_weight[4] = q.x * q.y * p.z; corner_weight[5] = p.x * q.y * p.z;
  corner_weight[6] = q.x * p.y * p.z; corner_weight[7] = p.x * p.y * p.z;
  let base = LEVEL_OFFSET[l];
  if (LEVEL_DENSE[l] == 1u) {
    let n = r + 1u;
    let i = base + c0.x + n * (c0.y + n * c0.z);
    let nn = n * n;
    corner_index[0] = i; corner_index[1] = i + 1u; corner_index[2] = i + n; corner_index[3] = i + n + 1u;
    corner_index[4] = i + nn; corner_index[5] = i + nn + 1u; corner_index[6] = i + nn + n; corner_index[7] = i + nn + n + 1u;
  } else {
    let mask = LEVEL_MASK[l];
    let x0 = c0.x; let x1 = c0.x + 1u;
    let y0 = c0.y * PRIME_Y; let y1 = (c0.y + 1u) * PRIME_Y;
    let z0 = c0.z * PRIME_Z; let z1 = (c0.z + 1u) * PRIME_Z;
    corner_index[0] = base + ((x0 ^ y0 ^ z0) & mask); corner_index[1] = base + ((x1 ^ y0 ^ z0) & mask);
    corner_index[2] = base + ((x0 ^ y1 ^ z0) & mask); corner_index[3] = base + ((x1 ^ y1 ^ z0) & mask);
    corner_index[4] = base + ((x0 ^ y0 ^ z1) & mask); corner_index[5] = base + ((x1 ^ y0 ^ z1) & mask);
    corner_index[6] = base + ((x0 ^ y1 ^ z1) & mask); corner_index[7] = base + ((x1 ^ y1 ^ z1) & mask);
  }
}
`;
}

/**
 * Forward: `units` (vec3 per sample, [0,1]³) → tape[s·TAPE + l·F + f].
 * Bindings: 0 uniform {count}, 1 params, 2 units, 3 tape (read_write).
 */
export function hashEncodeForwardWgsl(layout: GpuFieldLayout, featuresPerLevel: number): string {
  return /* wgsl */ `
struct Uniforms { count: u32 }
@group(0) @binding(0) var<uniform> uniforms: Uniforms;
@group(0) @binding(1) var<storage, read> params: array<f32>;
@group(0) @binding(2) var<storage, read> units: array<f32>;
@group(0) @binding(3) var<storage, read_write> tape: array<f32>;
const TAPE = ${layout.tapeStride}u;
${cornerCode(layout, featuresPerLevel)}
@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let s = id.x;
  if (s >= uniforms.count) { return; }
  let u = vec3<f32>(units[s * 3u], units[s * 3u + 1u], units[s * 3u + 2u]);
  for (var l = 0u; l < LEVELS; l++) {
    corners(l, u);
    for (var f = 0u; f < F; f++) {
      var sum = 0.0;
      for (var c = 0u; c < 8u; c++) { sum += corner_weight[c] * params[corner_index[c] * F + f]; }
      tape[s * TAPE + l * F + f] = sum;
    }
  }
}
`;
}

/**
 * Backward: deltas[s·DELTA + l·F + f] (dL/d encoded) scattered onto `grads` (the hash-table part of
 * the gradient vector, as f32 bits in atomic<u32>) with a CAS loop per corner.
 * Bindings: 0 uniform {count}, 1 units, 2 deltas, 3 grads (atomic<u32>).
 */
export function hashEncodeBackwardWgsl(layout: GpuFieldLayout, featuresPerLevel: number): string {
  return /* wgsl */ `
struct Uniforms { count: u32 }
@group(0) @binding(0) var<uniform> uniforms: Uniforms;
@group(0) @binding(1) var<storage, read> units: array<f32>;
@group(0) @binding(2) var<storage, read> deltas: array<f32>;
@group(0) @binding(3) var<storage, read_write> grads: array<atomic<u32>>;
const DELTA = ${layout.deltaStride}u;
${cornerCode(layout, featuresPerLevel)}
${atomicAddF32('grads')}
@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let s = id.x;
  if (s >= uniforms.count) { return; }
  let u = vec3<f32>(units[s * 3u], units[s * 3u + 1u], units[s * 3u + 2u]);
  for (var l = 0u; l < LEVELS; l++) {
    corners(l, u);
    for (var f = 0u; f < F; f++) {
      let g = deltas[s * DELTA + l * F + f];
      if (g == 0.0) { continue; }
      for (var c = 0u; c < 8u; c++) { atomic_add_f32(corner_index[c] * F + f, corner_weight[c] * g); }
    }
  }
}
`;
}
