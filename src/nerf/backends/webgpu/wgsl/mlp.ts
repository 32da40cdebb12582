import type { FieldConfig } from '../../../field/config.js';
import type { GpuFieldLayout } from '../layout.js';
import { WORKGROUP_SIZE } from './common.js';
import { shWgsl } from './sh.js';

/** instant-ngp's truncated exp: log-density is clamped here before exp, and its gradient cut beyond. */
const MAX_LOG_DENSITY = '11.0';

function maxWidth(layout: GpuFieldLayout): number {
  return Math.max(...layout.layers.flatMap((l) => [l.inputs, l.outputs]), 3);
}

/**
 * Forward pass of both MLPs for a batch, one invocation per sample, matching FieldKernels.forward
 * after the encoding: reads the encoded features from the tape, writes every activation back to
 * it, and writes (σ, r, g, b) per sample.
 * Bindings: 0 uniform {count}, 1 params, 2 dirs (vec3 per sample), 3 tape (rw), 4 out (vec4 per sample).
 * With `densityOnly` only the density MLP runs (no tape writes) and out gets (σ, 0, 0, 0): the
 * cheap pass that finds where rays terminate, and the occupancy update.
 * Bindings then: 0 uniform {count}, 1 params, 2 tape (read), 3 out.
 */
export function mlpForwardWgsl(config: FieldConfig, layout: GpuFieldLayout, options: { densityOnly?: boolean } = {}): string {
  const W = maxWidth(layout);
  const densityOnly = options.densityOnly ?? false;
  const body: string[] = [];
  body.push(`for (var c = 0u; c < ${layout.encodedWidth}u; c++) { x[c] = tape[t + c]; }`);
  const layers = densityOnly ? layout.layers.slice(0, layout.densityLayerCount) : layout.layers;
  layers.forEach((layer, i) => {
    const last = i === layout.densityLayerCount - 1 || i === layout.layers.length - 1;
    const bias = layer.offset + layer.inputs * layer.outputs;
    const out = layout.layerOutputOffsets[i];
    body.push(`// layer ${i}: ${layer.inputs} -> ${layer.outputs}${last ? '' : ', ReLU'}
  for (var r = 0u; r < ${layer.outputs}u; r++) {
    var sum = params[${bias}u + r];
    let w = ${layer.offset}u + r * ${layer.inputs}u;
    for (var c = 0u; c < ${layer.inputs}u; c++) { sum += params[w + c] * x[c]; }
    ${last ? '' : 'sum = max(sum, 0.0);'}
    y[r] = sum;
    ${densityOnly ? '' : `tape[t + ${out}u + r] = sum;`}
  }
  for (var c = 0u; c < ${layer.outputs}u; c++) { x[c] = y[c]; }`);
    if (i === layout.densityLayerCount - 1 && densityOnly) {
      body.push(`out[s] = vec4<f32>(exp(min(x[0], ${MAX_LOG_DENSITY})), 0.0, 0.0, 0.0);`);
    } else if (i === layout.densityLayerCount - 1) {
      const g = config.geometryFeatures;
      body.push(`let log_density = x[0];
  let d = vec3<f32>(dirs[s * 3u], dirs[s * 3u + 1u], dirs[s * 3u + 2u]);
  ${shWgsl(config.shDegree, (k) => `x[${g + k}]`)}
  for (var c = 0u; c < ${layout.shWidth}u; c++) { tape[t + ${layout.shOffset}u + c] = x[${g}u + c]; }`);
    }
  });
  if (!densityOnly) body.push(`var rgb = vec3<f32>(0.0);
  for (var k = 0u; k < 3u; k++) {
    let v = 1.0 / (1.0 + exp(-x[k]));
    tape[t + ${layout.rgbOffset}u + k] = v;
    rgb[k] = v;
  }
  out[s] = vec4<f32>(exp(min(log_density, ${MAX_LOG_DENSITY})), rgb);`);
  return /* wgsl */ `
struct Uniforms { count: u32 }
@group(0) @binding(0) var<uniform> uniforms: Uniforms;
@group(0) @binding(1) var<storage, read> params: array<f32>;
${densityOnly ? `@group(0) @binding(2) var<storage, read> tape: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<vec4<f32>>;` : `@group(0) @binding(2) var<storage, read> dirs: array<f32>;
@group(0) @binding(3) var<storage, read_write> tape: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<vec4<f32>>;`}
@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let s = id.x;
  if (s >= uniforms.count) { return; }
  let t = s * ${layout.tapeStride}u;
  var x: array<f32, ${W + layout.shWidth}>;
  var y: array<f32, ${W}>;
  ${body.join('\n  ')}
}
`;
}

/**
 * Per-sample backward pass of both MLPs, matching FieldKernels.backward: from dL/dσ and dL/d(rgb)
 * (packed vec4 per sample) it writes every layer's dL/d(pre-activation) and dL/d(encoded) into the
 * delta row. Weight gradients are reduced from these rows by {@link weightGradientWgsl}.
 * Bindings: 0 uniform {count}, 1 params, 2 tape, 3 dOut (vec4: dσ, dr, dg, db), 4 deltas (rw).
 */
export function mlpBackwardWgsl(config: FieldConfig, layout: GpuFieldLayout): string {
  const W = Math.max(maxWidth(layout), config.geometryFeatures + layout.shWidth);
  const n = layout.layers.length;
  const body: string[] = [];
  body.push(`let g_out = d_out[s];
  for (var k = 0u; k < 3u; k++) {
    let v = tape[t + ${layout.rgbOffset}u + k];
    dy[k] = g_out[k + 1u] * v * (1.0 - v);
  }`);
  for (let i = n - 1; i >= 0; i--) {
    const layer = layout.layers[i];
    body.push(`// layer ${i}: store dy, then dx = Wᵀ dy
  for (var r = 0u; r < ${layer.outputs}u; r++) { deltas[d + ${layout.layerDeltaOffsets[i]}u + r] = dy[r]; }
  for (var c = 0u; c < ${layer.inputs}u; c++) { dx[c] = 0.0; }
  for (var r = 0u; r < ${layer.outputs}u; r++) {
    let g = dy[r];
    let w = ${layer.offset}u + r * ${layer.inputs}u;
    for (var c = 0u; c < ${layer.inputs}u; c++) { dx[c] += g * params[w + c]; }
  }`);
    if (i === 0) {
      body.push(`for (var c = 0u; c < ${layer.inputs}u; c++) { deltas[d + c] = dx[c]; }`);
    } else if (i === layout.densityLayerCount) {
      // Colour input = geometry ⊕ SH; the geometry part continues into the density MLP (no ReLU there).
      body.push(`for (var c = 0u; c < ${config.geometryFeatures}u; c++) { dy[c] = dx[c]; }
  let log_density = tape[t + ${layout.geometryOffset}u];
  if (log_density < ${MAX_LOG_DENSITY}) { dy[0] += g_out.x * exp(log_density); }`);
    } else {
      const input = layout.layerInputOffsets[i];
      body.push(`for (var c = 0u; c < ${layer.inputs}u; c++) { dy[c] = select(0.0, dx[c], tape[t + ${input}u + c] > 0.0); }`);
    }
  }
  return /* wgsl */ `
struct Uniforms { count: u32 }
@group(0) @binding(0) var<uniform> uniforms: Uniforms;
@group(0) @binding(1) var<storage, read> params: array<f32>;
@group(0) @binding(2) var<storage, read> tape: array<f32>;
@group(0) @binding(3) var<storage, read> d_out: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> deltas: array<f32>;
@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let s = id.x;
  if (s >= uniforms.count) { return; }
  let t = s * ${layout.tapeStride}u;
  let d = s * ${layout.deltaStride}u;
  var dy: array<f32, ${W}>;
  var dx: array<f32, ${W}>;
  ${body.join('\n  ')}
}
`;
}

/** Samples per tile staged in workgroup memory by the weight-gradient kernel. */
export const WEIGHT_GRADIENT_TILE = 32;
/** Samples each workgroup of the weight-gradient kernel sums over (one partial per workgroup). */
export const WEIGHT_GRADIENT_CHUNK = 256;

/**
 * Per-workgroup reduction of one dense layer's weight and bias gradients: workgroup g sums
 * dy[s][r]·x[s][c] (x = 1 for the bias column) over samples [g·CHUNK, (g+1)·CHUNK), staging tiles
 * of x and dy in workgroup memory, and writes one partial per weight; {@link weightReduceWgsl}
 * then sums the partials in a fixed order (deterministic: no float atomics).
 * Bindings: 0 uniform LayerUniforms, 1 tape, 2 deltas, 3 partials (rw).
 */
export function weightGradientWgsl(layout: GpuFieldLayout): string {
  const maxIn = Math.max(...layout.layers.map((l) => l.inputs)) + 1;
  const maxOut = Math.max(...layout.layers.map((l) => l.outputs));
  const maxWeights = Math.max(...layout.layers.map((l) => l.outputs * (l.inputs + 1)));
  const acc = Math.ceil(maxWeights / WORKGROUP_SIZE);
  const T = WEIGHT_GRADIENT_TILE;
  return /* wgsl */ `
${LAYER_UNIFORMS}
@group(0) @binding(0) var<uniform> u: LayerUniforms;
@group(0) @binding(1) var<storage, read> tape: array<f32>;
@group(0) @binding(2) var<storage, read> deltas: array<f32>;
@group(0) @binding(3) var<storage, read_write> partials: array<f32>;
const TILE = ${T}u;
const CHUNK = ${WEIGHT_GRADIENT_CHUNK}u;
const MAXIN = ${maxIn}u;
const MAXOUT = ${maxOut}u;
const ACC = ${acc}u;
var<workgroup> xs: array<f32, ${T * maxIn}>;
var<workgroup> ds: array<f32, ${T * maxOut}>;
@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let inputs = u.inputs;
  let outputs = u.outputs;
  let columns = inputs + 1u;
  let weights = outputs * columns;
  var acc: array<f32, ${acc}>;
  let first = wg.x * CHUNK;
  for (var tile = 0u; tile < CHUNK; tile += TILE) {
    if (first + tile >= u.count) { break; }
    workgroupBarrier();
    for (var i = lid; i < TILE * columns; i += ${WORKGROUP_SIZE}u) {
      let k = i / columns; let c = i % columns; let s = first + tile + k;
      var v = 1.0;
      if (c < inputs) { v = 0.0; if (s < u.count) { v = tape[s * ${layout.tapeStride}u + u.x_offset + c]; } }
      xs[k * MAXIN + c] = v;
    }
    for (var i = lid; i < TILE * outputs; i += ${WORKGROUP_SIZE}u) {
      let k = i / outputs; let r = i % outputs; let s = first + tile + k;
      var v = 0.0;
      if (s < u.count) { v = deltas[s * ${layout.deltaStride}u + u.dy_offset + r]; }
      ds[k * MAXOUT + r] = v;
    }
    workgroupBarrier();
    for (var a = 0u; a < ACC; a++) {
      let j = lid + a * ${WORKGROUP_SIZE}u;
      if (j < weights) {
        let r = j / columns; let c = j % columns;
        var sum = acc[a];
        for (var k = 0u; k < TILE; k++) { sum += ds[k * MAXOUT + r] * xs[k * MAXIN + c]; }
        acc[a] = sum;
      }
    }
  }
  for (var a = 0u; a < ACC; a++) {
    let j = lid + a * ${WORKGROUP_SIZE}u;
    if (j < weights) { partials[wg.x * weights + j] = acc[a]; }
  }
}
`;
}

/** Uniform block of one dense layer for the gradient kernels (8 u32, 32 bytes). */
const LAYER_UNIFORMS = /* wgsl */ `
struct LayerUniforms {
  count: u32, inputs: u32, outputs: u32, x_offset: u32,
  dy_offset: u32, param_offset: u32, groups: u32, pad: u32,
}`;

/**
 * Sums one layer's partials over workgroups (fixed order) and adds them to the gradient vector:
 * weight (r, c) at param_offset + r·inputs + c, bias r at param_offset + inputs·outputs + r.
 * Bindings: 0 uniform LayerUniforms, 1 partials, 2 grads (rw f32).
 */
export function weightReduceWgsl(): string {
  return /* wgsl */ `
${LAYER_UNIFORMS}
@group(0) @binding(0) var<uniform> u: LayerUniforms;
@group(0) @binding(1) var<storage, read> partials: array<f32>;
@group(0) @binding(2) var<storage, read_write> grads: array<f32>;
@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let columns = u.inputs + 1u;
  let weights = u.outputs * columns;
  let j = id.x;
  if (j >= weights) { return; }
  var sum = 0.0;
  for (var g = 0u; g < u.groups; g++) { sum += partials[g * weights + j]; }
  let r = j / columns; let c = j % columns;
  var index = u.param_offset + u.inputs * u.outputs + r;
  if (c < u.inputs) { index = u.param_offset + r * u.inputs + c; }
  grads[index] += sum;
}
`;
}
