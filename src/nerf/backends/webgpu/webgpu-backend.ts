import type { BackendSetup, FitBackend, TrainStepRequest, TrainStepResult } from '../backend.js';
import { FieldKernels } from '../../field/field.js';
import { parameterLayout } from '../../field/config.js';
import { cellPoint } from '../../render/occupancy.js';
import { pixelRay } from '../../render/rays.js';
import { createRandom, mixSeed } from '../../../core/random.js';
import { viewOfPixel } from '../../train/view-data.js';
import { readFloats, storageBuffer, uniformBuffer, uploadBuffer } from './buffers.js';
import { type AcquireOptions, type GpuContext, acquireGpu } from './device.js';
import { GpuField, type RayBuffers, type SampleBuffers } from './gpu-field.js';
import { type Kernel, compileKernel, dispatch } from './pipelines.js';
import { RayBatch } from './ray-batch.js';
import { ADAM_WORKGROUPS, adamUniformWords, adamWgsl } from './wgsl/adam.js';
import { WORKGROUP_SIZE } from './wgsl/common.js';
import { compositeLossWgsl } from './wgsl/composite-loss.js';

export interface WebGpuBackendOptions {
  /** A device to run on; acquired with `acquire` when absent (and then destroyed by close). */
  gpu?: GpuContext;
  acquire?: AcquireOptions;
  /**
   * Most samples one batch holds on the device (a step with more is split into several batches
   * whose gradients add up before Adam). Also capped so the largest per-sample buffer fits the
   * device's storage-binding limit. Default 2^17.
   */
  maxBatchSamples?: number;
}

/** Device buffers for up to `samples` samples and `rays` rays. */
interface Buffers extends SampleBuffers, RayBuffers {
  samples: number;
  rays: number;
  sampleDeltas: GPUBuffer;
  target: GPUBuffer;
}

const groups = (n: number): number => Math.ceil(n / WORKGROUP_SIZE);
const f32Bits = (value: number): number => new Uint32Array(new Float32Array([value]).buffer)[0];

/**
 * The fit backend on WebGPU (Dawn): the field's forward and backward passes, compositing with
 * the loss, and Adam run as WGSL kernels (gpu-field.ts, wgsl/); the host draws the training rays
 * with the CPU backend's generator and marches them through the occupancy grid (ray-batch.ts).
 * Numerics are the CPU backend's in float32; a step draws its rays as `new CpuBackend(1)` does
 * (one stream per step), so with the same seed both backends train on the same rays.
 * @example
 * const backend = await WebGpuBackend.create();
 * await backend.setup({ config, march, params, grid, views });
 * const { squaredError } = await backend.trainStep({ step: 1, rays: 4096, seed: 7, loss: 'l2', adam });
 */
export class WebGpuBackend implements FitBackend {
  readonly name = 'webgpu';
  /** Host threads (the host marches rays on the main thread). */
  readonly threads = 1;
  /** Milliseconds the last setup spent compiling kernels, including a warm-up dispatch of each (0 when it reused them). */
  compileMs = 0;
  /**
   * Training samples so far: `marched` went through the density-only probe pass (the host's
   * sample lists, which run past where a ray becomes opaque), `used` through the full forward
   * and backward passes (the CPU marcher's samples).
   */
  readonly sampleCounts = { marched: 0, used: 0 };
  private field?: GpuField;
  private extra?: { compositeLoss: Kernel; adam: Kernel };
  private setupState?: BackendSetup;
  private kernels?: FieldKernels;
  private params?: GPUBuffer;
  private adamM?: GPUBuffer;
  private adamV?: GPUBuffer;
  private grads?: GPUBuffer;
  private buffers?: Buffers;
  private readonly batchCapacity: number;
  private deviceError?: string;
  private readonly onDeviceError = (event: Event) => {
    this.deviceError ??= (event as GPUUncapturedErrorEvent).error.message;
  };

  private constructor(readonly gpu: GpuContext, private readonly ownsDevice: boolean, options: WebGpuBackendOptions) {
    this.batchCapacity = options.maxBatchSamples ?? 2 ** 17;
    gpu.device.addEventListener('uncapturederror', this.onDeviceError);
  }

  /**
   * A backend on `options.gpu`, or on the first adapter acquireGpu finds.
   * @throws Head3dError when there is no WebGPU adapter.
   */
  static async create(options: WebGpuBackendOptions = {}): Promise<WebGpuBackend> {
    const gpu = options.gpu ?? (await acquireGpu(options.acquire));
    return new WebGpuBackend(gpu, !options.gpu, options);
  }

  /** `vendor device (description)` of the adapter, and whether it is a GPU or a software one. */
  get adapter(): string {
    return `${this.gpu.label} [${this.gpu.kind}, ${this.gpu.backend}]`;
  }

  private get device(): GPUDevice {
    return this.gpu.device;
  }

  private check(): void {
    if (this.deviceError) throw new Error(`webgpu backend: device error: ${this.deviceError}`);
  }

  async setup(setup: BackendSetup): Promise<void> {
    const total = parameterLayout(setup.config).total;
    if (setup.params.length !== total) throw new Error(`webgpu backend: ${setup.params.length} parameters given, the config needs ${total}`);
    const d = this.device;
    const limit = Math.min(d.limits.maxStorageBufferBindingSize, d.limits.maxBufferSize);
    if (total * 4 > limit) {
      throw new Error(`webgpu backend: ${total} parameters (${(total * 4) / 2 ** 20} MiB) exceed the device's storage-binding limit of ${limit / 2 ** 20} MiB`);
    }
    const start = performance.now();
    const sameConfig = this.field && JSON.stringify(this.setupState?.config) === JSON.stringify(setup.config);
    if (!sameConfig) {
      this.field = await GpuField.compile(d, setup.config);
      this.extra = {
        compositeLoss: await compileKernel(d, 'compositeLoss', compositeLossWgsl()),
        adam: await compileKernel(d, 'adam', adamWgsl()),
      };
      this.destroyBuffers();
    }
    this.setupState = setup;
    this.kernels = new FieldKernels(setup.config);
    for (const b of [this.params, this.adamM, this.adamV, this.grads]) b?.destroy();
    this.params = uploadBuffer(d, setup.params, 'params');
    this.adamM = setup.adam ? uploadBuffer(d, setup.adam.m, 'adam m') : storageBuffer(d, total, 'adam m');
    this.adamV = setup.adam ? uploadBuffer(d, setup.adam.v, 'adam v') : storageBuffer(d, total, 'adam v');
    this.grads = storageBuffer(d, total, 'grads');
    if (!sameConfig) {
      await this.warmUp();
      this.compileMs = performance.now() - start;
    } else {
      this.compileMs = 0;
    }
    this.check();
  }

  /**
   * Runs every kernel once on a one-sample batch with a zero loss scale (gradients stay exactly
   * 0, so nothing changes) and an empty Adam range. Drivers may compile a pipeline only at its
   * first dispatch (Mesa's llvmpipe does: seconds to minutes), so this puts the whole compile
   * into setup and makes {@link compileMs} honest.
   */
  private async warmUp(): Promise<void> {
    const d = this.device;
    const s = this.setupState!;
    const batch = new RayBatch(1, s.march.maxSamples, this.kernels!, s.grid, s.march);
    const centre = s.config.boundsMin.map((v, k) => (v + s.config.boundsMax[k]) / 2);
    const occupied = s.grid.occupied.slice();
    s.grid.occupied.fill(1); // the warm-up ray must take samples even in a carved grid
    batch.add([centre[0], centre[1], s.config.boundsMin[2] - 1, 0, 0, 1], 0.5, [0, 0, 0], [0, 0, 0]);
    s.grid.occupied.set(occupied);
    batch.compact(Uint32Array.from([0, 1]));
    await this.readBatch(this.submitBatch(batch, null, true), 1);
    await this.readBatch(this.submitBatch(batch, { loss: 0, lossScale: 0 }), 1);
    const encoder = d.createCommandEncoder();
    const pass = encoder.beginComputePass();
    const u = uniformBuffer(d, adamUniformWords(0, 0, 1, { learningRate: 0, beta1: 0.9, beta2: 0.99, epsilon: 1e-15, weightDecay: 0 }));
    dispatch(d, pass, this.extra!.adam, [u, this.params!, this.adamM!, this.adamV!, this.grads!], 1);
    pass.end();
    d.queue.submit([encoder.finish()]);
    await d.queue.onSubmittedWorkDone();
  }

  /**
   * Pipeline-creation time of each kernel, in ms. Drivers that compile at the first dispatch
   * (llvmpipe) spend most of the compile after this, inside the warm-up that {@link compileMs} includes.
   */
  get compileTimes(): Record<string, number> {
    if (!this.field || !this.extra) return {};
    return { ...this.field.compileTimes, compositeLoss: Math.round(this.extra.compositeLoss.compileMs), adam: Math.round(this.extra.adam.compileMs) };
  }

  /** Samples one batch may hold: the option, capped by the storage-binding limit of the widest per-sample buffer. */
  private get sampleCapacity(): number {
    const layout = this.field!.layout;
    const limit = Math.min(this.device.limits.maxStorageBufferBindingSize, this.device.limits.maxBufferSize);
    const widest = Math.max(layout.tapeStride, layout.deltaStride, 4) * 4;
    const byLimit = Math.floor(limit / widest);
    const byDispatch = 65535 * WORKGROUP_SIZE;
    return Math.max(this.setupState!.march.maxSamples, Math.min(this.batchCapacity, byLimit, byDispatch));
  }

  /** Device buffers for at least `samples` samples and `rays` rays (grown, never shrunk). */
  private ensureBuffers(samples: number, rays: number): Buffers {
    const b = this.buffers;
    if (b && b.samples >= samples && b.rays >= rays) return b;
    // Powers of two, but never past the batch capacity (which keeps each binding within the limit).
    const S = Math.max(b?.samples ?? 0, samples, Math.min(2 ** Math.ceil(Math.log2(Math.max(64, samples))), this.sampleCapacity));
    const R = Math.max(b?.rays ?? 0, 2 ** Math.ceil(Math.log2(Math.max(64, rays))));
    this.destroyBuffers();
    const d = this.device;
    const layout = this.field!.layout;
    this.buffers = {
      samples: S, rays: R,
      units: storageBuffer(d, S * 3, 'units'), dirs: storageBuffer(d, S * 3, 'dirs'),
      tape: storageBuffer(d, S * layout.tapeStride, 'tape'), out: storageBuffer(d, S * 4, 'out'),
      dOut: storageBuffer(d, S * 4, 'dOut'), deltas: storageBuffer(d, S * layout.deltaStride, 'delta rows'),
      partials: storageBuffer(d, this.field!.partialWords(S), 'partials'),
      sampleDeltas: storageBuffer(d, S, 'step lengths'), weights: storageBuffer(d, S, 'weights'),
      ranges: storageBuffer(d, R * 2, 'ranges'), background: storageBuffer(d, R * 3, 'background'),
      target: storageBuffer(d, R * 3, 'target'), composite: storageBuffer(d, R * 4, 'composite'),
      dComposite: storageBuffer(d, R * 4, 'dComposite'),
    };
    return this.buffers;
  }

  private destroyBuffers(): void {
    const b = this.buffers;
    if (!b) return;
    for (const value of Object.values(b)) if (typeof value === 'object' && 'destroy' in value) (value as GPUBuffer).destroy();
    this.buffers = undefined;
  }

  private newBatch(rays: number): RayBatch {
    const s = this.setupState!;
    const capacity = this.sampleCapacity;
    return new RayBatch(Math.max(1, Math.min(rays, capacity)), capacity, this.kernels!, s.grid, s.march);
  }

  /**
   * Uploads a batch and records its kernels: field forward (or density only: then the composite
   * colours are meaningless but the used-sample counts exact), compositing with the loss, and — when
   * training — compositing backward and the field's backward pass into the gradients. Returns a
   * staging buffer that will hold the rays' composites (4 floats each) then their used-sample
   * counts (u32 pairs of ranges), once the queue gets there.
   */
  private submitBatch(batch: RayBatch, train: { loss: 0 | 1; lossScale: number } | null, densityOnly = false): GPUBuffer {
    const d = this.device;
    const field = this.field!;
    const b = this.ensureBuffers(batch.samples, batch.rays);
    const n = batch.samples, rays = batch.rays;
    const q = d.queue;
    q.writeBuffer(b.units, 0, batch.units, 0, n * 3);
    q.writeBuffer(b.dirs, 0, batch.dirs, 0, n * 3);
    q.writeBuffer(b.sampleDeltas, 0, batch.deltas, 0, n);
    q.writeBuffer(b.ranges, 0, batch.ranges, 0, rays * 2);
    q.writeBuffer(b.background, 0, batch.background, 0, rays * 3);
    q.writeBuffer(b.target, 0, batch.target, 0, rays * 3);
    const encoder = d.createCommandEncoder();
    if (train && n > 0) encoder.clearBuffer(b.dOut, 0, n * 16);
    const pass = encoder.beginComputePass();
    if (n > 0) {
      field.encodeForward(pass, this.params!, b, n);
      if (densityOnly) field.densityForward(pass, this.params!, b, n);
      else field.mlpForward(pass, this.params!, b, n);
    }
    const settings = uniformBuffer(d, [rays, train?.loss ?? 0, f32Bits(train?.lossScale ?? 0), f32Bits(this.setupState!.march.minTransmittance)]);
    const rayBuffers = { ...b, deltas: b.sampleDeltas };
    dispatch(d, pass, this.extra!.compositeLoss, [settings, b.ranges, b.out, b.sampleDeltas, b.background, b.target, b.composite, b.weights, b.dComposite], groups(rays));
    if (train && n > 0) {
      field.compositeBackward(pass, b.out, rayBuffers, b.dOut, rays);
      field.backward(pass, this.params!, this.grads!, b, n);
    }
    pass.end();
    const staging = d.createBuffer({ size: rays * 24, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    encoder.copyBufferToBuffer(b.composite, 0, staging, 0, rays * 16);
    encoder.copyBufferToBuffer(b.ranges, 0, staging, rays * 16, rays * 8);
    q.submit([encoder.finish()]);
    return staging;
  }

  /** Maps a staging buffer from {@link submitBatch}: composites and used-sample counts. */
  private async readBatch(staging: GPUBuffer, rays: number): Promise<{ composite: Float32Array; ranges: Uint32Array }> {
    await staging.mapAsync(GPUMapMode.READ);
    const bytes = staging.getMappedRange().slice(0);
    staging.unmap();
    staging.destroy();
    this.check();
    return { composite: new Float32Array(bytes, 0, rays * 4), ranges: new Uint32Array(bytes, rays * 16, rays * 2) };
  }

  async trainStep(request: TrainStepRequest): Promise<TrainStepResult> {
    const { views } = this.setupState!;
    // The CPU backend's worker 0 stream: the same pixels, backgrounds and jitters as CpuBackend(1).
    const random = createRandom(mixSeed(request.seed, request.step, 0, 1));
    const totalPixels = views.pixelOffsets[views.count];
    const ray = new Float64Array(6);
    const background = [0, 0, 0];
    const target = [0, 0, 0];
    const train = { loss: request.loss === 'huber' ? 1 : 0, lossScale: 1 / request.rays } as const;
    const pending: { staging: GPUBuffer; rays: number; target: Float64Array }[] = [];
    const batch = this.newBatch(request.rays);
    // Two passes per batch: a forward pass finds where each ray's transmittance runs out (the host
    // could not know), then the packed samples that count run forward, loss and backward.
    const flush = async () => {
      if (batch.rays === 0) return;
      const probe = await this.readBatch(this.submitBatch(batch, null, true), batch.rays);
      this.sampleCounts.marched += batch.samples;
      batch.compact(probe.ranges);
      this.sampleCounts.used += batch.samples;
      pending.push({ staging: this.submitBatch(batch, train), rays: batch.rays, target: batch.target64.slice(0, batch.rays * 3) });
      batch.clear();
    };
    for (let r = 0; r < request.rays; r++) {
      if (!batch.hasRoom) await flush();
      const pixel = Math.floor(random() * totalPixels);
      const view = viewOfPixel(views, pixel);
      const local = pixel - views.pixelOffsets[view];
      const width = views.widths[view];
      pixelRay(views.cameras, view, (local % width) + 0.5, Math.floor(local / width) + 0.5, ray);
      const p = pixel * 4;
      const alpha = views.pixels[p + 3] / 255;
      for (let k = 0; k < 3; k++) {
        background[k] = random();
        target[k] = (views.pixels[p + k] / 255) * alpha + background[k] * (1 - alpha);
      }
      batch.add(ray, random(), background, target);
    }
    await flush();
    this.submitAdam(request);
    let squaredError = 0;
    let samples = 0;
    for (const chunk of pending) {
      const { composite, ranges } = await this.readBatch(chunk.staging, chunk.rays);
      for (let r = 0; r < chunk.rays; r++) {
        samples += ranges[2 * r + 1];
        for (let k = 0; k < 3; k++) {
          const e = composite[r * 4 + k] - chunk.target[r * 3 + k];
          squaredError += e * e;
        }
      }
    }
    return { squaredError, rays: request.rays, samples };
  }

  private submitAdam(request: TrainStepRequest): void {
    const d = this.device;
    const layout = this.field!.layout.params;
    const encoder = d.createCommandEncoder();
    const pass = encoder.beginComputePass();
    const u = uniformBuffer(d, adamUniformWords(layout.total, layout.encodingSize, request.step, request.adam));
    dispatch(d, pass, this.extra!.adam, [u, this.params!, this.adamM!, this.adamV!, this.grads!], Math.min(ADAM_WORKGROUPS, groups(layout.total)));
    pass.end();
    d.queue.submit([encoder.finish()]);
  }

  /**
   * Re-samples the density grid as CpuBackend(1) does: one random point per uncarved cell (the
   * same stream), σ evaluated on the device in batches, max(decay·old, σ) on the host.
   */
  async updateOccupancy(request: { step: number; seed: number; decay: number }): Promise<void> {
    const grid = this.setupState!.grid;
    const kernels = this.kernels!;
    const random = createRandom(mixSeed(request.seed ^ request.step, 0, 2));
    const capacity = this.sampleCapacity;
    const units = new Float32Array(capacity * 3);
    const cells = new Int32Array(capacity);
    const point = new Float64Array(3);
    const unit = new Float32Array(3);
    const pending: Promise<void>[] = [];
    let n = 0;
    const flush = () => {
      if (n === 0) return;
      const count = n;
      const which = cells.slice(0, count);
      pending.push(this.densities(units, count).then((sigma) => {
        for (let i = 0; i < count; i++) grid.density[which[i]] = Math.max(grid.density[which[i]] * request.decay, sigma[i * 4]);
      }));
      n = 0;
    };
    for (let i = 0; i < grid.density.length; i++) {
      if (grid.carved[i]) continue;
      cellPoint(grid, i, random(), random(), random(), point);
      kernels.toUnit(point[0], point[1], point[2], unit);
      units.set(unit, n * 3);
      cells[n++] = i;
      if (n === capacity) flush();
    }
    flush();
    await Promise.all(pending);
    this.check();
  }

  /** (σ, 0, 0, 0) of `count` unit points. */
  private async densities(units: Float32Array, count: number): Promise<Float32Array> {
    const d = this.device;
    const b = this.ensureBuffers(count, 1);
    d.queue.writeBuffer(b.units, 0, units, 0, count * 3);
    const encoder = d.createCommandEncoder();
    const pass = encoder.beginComputePass();
    this.field!.encodeForward(pass, this.params!, b, count);
    this.field!.densityForward(pass, this.params!, b, count);
    pass.end();
    const staging = d.createBuffer({ size: count * 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    encoder.copyBufferToBuffer(b.out, 0, staging, 0, count * 16);
    d.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const out = new Float32Array(staging.getMappedRange().slice(0));
    staging.unmap();
    staging.destroy();
    return out;
  }

  async render(camera: Float64Array, width: number, height: number, background: [number, number, number]): Promise<Float32Array> {
    const output = new Float32Array(width * height * 4);
    const batch = this.newBatch(Math.min(width * height, 65536));
    const ray = new Float64Array(6);
    const none = [0, 0, 0];
    const pending: Promise<void>[] = [];
    let first = 0;
    const flush = () => {
      if (batch.rays === 0) return;
      const at = first, rays = batch.rays;
      const staging = this.submitBatch(batch, null);
      pending.push(this.readBatch(staging, rays).then(({ composite }) => output.set(composite, at * 4)));
      first += rays;
      batch.clear();
    };
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        if (!batch.hasRoom) flush();
        pixelRay(camera, 0, x + 0.5, y + 0.5, ray);
        batch.add(ray, 0.5, background, none);
      }
    }
    flush();
    await Promise.all(pending);
    return output;
  }

  async snapshot(): Promise<{ params: Float32Array; adamM: Float32Array; adamV: Float32Array }> {
    const total = this.field!.layout.params.total;
    const d = this.device;
    const [params, adamM, adamV] = await Promise.all([this.params!, this.adamM!, this.adamV!].map((b) => readFloats(d, b, total)));
    this.check();
    return { params, adamM, adamV };
  }

  async close(): Promise<void> {
    this.destroyBuffers();
    for (const b of [this.params, this.adamM, this.adamV, this.grads]) b?.destroy();
    this.gpu.device.removeEventListener('uncapturederror', this.onDeviceError);
    if (this.ownsDevice) this.gpu.device.destroy();
  }
}
