import type { FieldConfig } from '../../field/config.js';
import { uniformBuffer } from './buffers.js';
import { type GpuFieldLayout, gpuFieldLayout } from './layout.js';
import { type Kernel, compileKernel, dispatch } from './pipelines.js';
import { WORKGROUP_SIZE } from './wgsl/common.js';
import { compositeBackwardWgsl, compositeForwardWgsl } from './wgsl/composite.js';
import { hashEncodeBackwardWgsl, hashEncodeForwardWgsl } from './wgsl/hash-encoding.js';
import { WEIGHT_GRADIENT_CHUNK, mlpBackwardWgsl, mlpForwardWgsl, weightGradientWgsl, weightReduceWgsl } from './wgsl/mlp.js';

/** Storage buffers of one batch of samples (sizes in 4-byte words). */
export interface SampleBuffers {
  /** [0,1]³ coordinates, 3 per sample. */
  units: GPUBuffer;
  /** Unit view directions, 3 per sample. */
  dirs: GPUBuffer;
  /** Activations, `layout.tapeStride` per sample. */
  tape: GPUBuffer;
  /** (σ, r, g, b) per sample. */
  out: GPUBuffer;
  /** dL/d(σ, r, g, b) per sample. */
  dOut: GPUBuffer;
  /** Backward rows, `layout.deltaStride` per sample. */
  deltas: GPUBuffer;
  /** Weight-gradient partials: `partialWords(count)` words. */
  partials: GPUBuffer;
}

/** Storage buffers of one batch of rays. */
export interface RayBuffers {
  /** (first sample, sample count) per ray, u32. */
  ranges: GPUBuffer;
  /** Step length per sample. */
  deltas: GPUBuffer;
  /** Background colour, 3 per ray. */
  background: GPUBuffer;
  /** Sample weights wᵢ, 1 per sample. */
  weights: GPUBuffer;
  /** (r, g, b, opacity) per ray. */
  composite: GPUBuffer;
  /** dL/d(r, g, b, opacity) per ray. */
  dComposite: GPUBuffer;
}

const groups = (n: number, size = WORKGROUP_SIZE): number => Math.ceil(n / size);

/**
 * The field's kernels for one config, compiled for one device: the WGSL counterpart of
 * FieldKernels plus volume.ts. Each method records dispatches into a compute pass; the caller
 * owns the buffers and submits. `params` and `grads` hold the whole parameter vector (grads as
 * plain f32 words, added to by the backward kernels).
 * @example
 * const field = await GpuField.compile(gpu.device, config);
 * const pass = encoder.beginComputePass();
 * field.encodeForward(pass, params, samples, count);
 * field.mlpForward(pass, params, samples, count);
 */
export class GpuField {
  private constructor(
    readonly device: GPUDevice,
    readonly config: FieldConfig,
    readonly layout: GpuFieldLayout,
    readonly kernels: Record<'encodeForward' | 'encodeBackward' | 'mlpForward' | 'densityForward' | 'mlpBackward' | 'weightGradient' | 'weightReduce' | 'compositeForward' | 'compositeBackward', Kernel>,
  ) {}

  /** Compiles every kernel, one after another (so each compile time is its own). */
  static async compile(device: GPUDevice, config: FieldConfig): Promise<GpuField> {
    const layout = gpuFieldLayout(config);
    const F = config.encoding.featuresPerLevel;
    const sources = {
      encodeForward: hashEncodeForwardWgsl(layout, F),
      encodeBackward: hashEncodeBackwardWgsl(layout, F),
      mlpForward: mlpForwardWgsl(config, layout),
      densityForward: mlpForwardWgsl(config, layout, { densityOnly: true }),
      mlpBackward: mlpBackwardWgsl(config, layout),
      weightGradient: weightGradientWgsl(layout),
      weightReduce: weightReduceWgsl(),
      compositeForward: compositeForwardWgsl(),
      compositeBackward: compositeBackwardWgsl(),
    };
    const kernels = {} as GpuField['kernels'];
    for (const [name, code] of Object.entries(sources) as [keyof typeof sources, string][]) {
      kernels[name] = await compileKernel(device, name, code);
    }
    return new GpuField(device, config, layout, kernels);
  }

  /** Compile time of each kernel, in ms. */
  get compileTimes(): Record<string, number> {
    return Object.fromEntries(Object.values(this.kernels).map((k) => [k.name, Math.round(k.compileMs)]));
  }

  /** Words the weight-gradient partials buffer needs for `count` samples. */
  partialWords(count: number): number {
    const largest = Math.max(...this.layout.layers.map((l) => l.outputs * (l.inputs + 1)));
    return Math.max(1, groups(count, WEIGHT_GRADIENT_CHUNK)) * largest;
  }

  /** Hash encoding of `count` samples into the tape's first `encodedWidth` floats per sample. */
  encodeForward(pass: GPUComputePassEncoder, params: GPUBuffer, b: SampleBuffers, count: number): void {
    dispatch(this.device, pass, this.kernels.encodeForward, [uniformBuffer(this.device, [count]), params, b.units, b.tape], groups(count));
  }

  /** Density and colour MLPs after `encodeForward`: fills the tape and (σ, r, g, b). */
  mlpForward(pass: GPUComputePassEncoder, params: GPUBuffer, b: SampleBuffers, count: number): void {
    dispatch(this.device, pass, this.kernels.mlpForward, [uniformBuffer(this.device, [count]), params, b.dirs, b.tape, b.out], groups(count));
  }

  /** Density MLP only after `encodeForward`: (σ, 0, 0, 0) per sample into `b.out`, the tape's MLP part untouched. */
  densityForward(pass: GPUComputePassEncoder, params: GPUBuffer, b: SampleBuffers, count: number): void {
    dispatch(this.device, pass, this.kernels.densityForward, [uniformBuffer(this.device, [count]), params, b.tape, b.out], groups(count));
  }

  /**
   * Full backward pass from `b.dOut`: per-sample deltas, the MLP weight gradients (per-workgroup
   * partials, then a fixed-order reduction) and the hash-table scatter, all added into `grads`.
   */
  backward(pass: GPUComputePassEncoder, params: GPUBuffer, grads: GPUBuffer, b: SampleBuffers, count: number): void {
    const d = this.device;
    const countUniform = uniformBuffer(d, [count]);
    dispatch(d, pass, this.kernels.mlpBackward, [countUniform, params, b.tape, b.dOut, b.deltas], groups(count));
    const chunks = groups(count, WEIGHT_GRADIENT_CHUNK);
    this.layout.layers.forEach((layer, i) => {
      const u = uniformBuffer(d, [count, layer.inputs, layer.outputs, this.layout.layerInputOffsets[i], this.layout.layerDeltaOffsets[i], layer.offset, chunks, 0]);
      dispatch(d, pass, this.kernels.weightGradient, [u, b.tape, b.deltas, b.partials], chunks);
      dispatch(d, pass, this.kernels.weightReduce, [u, b.partials, grads], groups(layer.outputs * (layer.inputs + 1)));
    });
    dispatch(d, pass, this.kernels.encodeBackward, [countUniform, b.units, b.deltas, grads], groups(count));
  }

  /** Composites `rays` rays from the samples' (σ, r, g, b) in `samples.out`. */
  compositeForward(pass: GPUComputePassEncoder, samples: GPUBuffer, r: RayBuffers, rays: number): void {
    dispatch(this.device, pass, this.kernels.compositeForward, [uniformBuffer(this.device, [rays]), r.ranges, samples, r.deltas, r.background, r.composite, r.weights], groups(rays));
  }

  /** dL/d(σ, r, g, b) per sample into `dSamples` from dL/d(composite) in `r.dComposite`. */
  compositeBackward(pass: GPUComputePassEncoder, samples: GPUBuffer, r: RayBuffers, dSamples: GPUBuffer, rays: number): void {
    dispatch(
      this.device, pass, this.kernels.compositeBackward,
      [uniformBuffer(this.device, [rays]), r.ranges, samples, r.deltas, r.background, r.weights, r.composite, r.dComposite, dSamples],
      groups(rays),
    );
  }
}
