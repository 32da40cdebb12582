import type { FieldKernels, FloatArray } from '../field/field.js';
import { type OccupancyGrid, cellIndex } from './occupancy.js';
import { intersectBox } from './rays.js';
import { compositeBackward, compositeForward } from './volume.js';

export interface MarchOptions {
  /** Distance between samples along a ray, in world units. */
  stepSize: number;
  /** Most samples one ray may take. */
  maxSamples: number;
  /** A ray stops once its transmittance falls below this. */
  minTransmittance: number;
}

export type LossKind = 'l2' | 'huber';

/** Huber's transition point, in colour units (instant-ngp uses 0.1 on [0,1] colours). */
const HUBER_DELTA = 0.1;

/**
 * Marches rays through the occupancy grid, evaluates the field front to back with early
 * termination, composites over a background, and (for training) back-propagates a per-ray colour
 * loss into a gradient vector. One instance per thread: it owns its scratch buffers.
 */
export class RayMarcher {
  private readonly tape: Float32Array;
  private readonly sigma: Float32Array;
  private readonly rgb: Float32Array;
  private readonly delta: Float32Array;
  private readonly weights: Float32Array;
  private readonly dSigma: Float32Array;
  private readonly dRgb: Float32Array;
  private readonly unit: Float32Array;
  private readonly scratch: Float32Array;
  private readonly box = new Float64Array(2);
  private readonly toUnitOut = new Float32Array(3);
  readonly composite = new Float32Array(4);
  /** Samples taken by the last call. */
  samples = 0;
  /** Expected depth of the last rendered ray (weights · t). */
  depth = 0;

  constructor(readonly kernels: FieldKernels, readonly grid: OccupancyGrid, readonly options: MarchOptions) {
    const n = options.maxSamples;
    this.tape = new Float32Array(n * kernels.tapeStride);
    this.sigma = new Float32Array(n);
    this.rgb = new Float32Array(n * 3);
    this.delta = new Float32Array(n);
    this.weights = new Float32Array(n);
    this.dSigma = new Float32Array(n);
    this.dRgb = new Float32Array(n * 3);
    this.unit = new Float32Array(n * 3);
    this.scratch = new Float32Array(kernels.backwardScratchSize);
  }

  /**
   * Forward pass along one ray; the composite (r, g, b, opacity) lands in `this.composite`.
   * `jitter` ∈ [0,1) offsets the first sample within a step (stratified sampling in training).
   */
  render(params: FloatArray, ray: ArrayLike<number>, jitter: number, background: ArrayLike<number>, depths?: Float32Array): number {
    const { stepSize, maxSamples, minTransmittance } = this.options;
    const kernels = this.kernels;
    const stride = kernels.tapeStride;
    const grid = this.grid;
    let n = 0;
    let depth = 0;
    const [ox, oy, oz, dx, dy, dz] = [ray[0], ray[1], ray[2], ray[3], ray[4], ray[5]];
    if (intersectBox(ox, oy, oz, dx, dy, dz, grid.boundsMin, grid.boundsMax, this.box)) {
      let transmittance = 1;
      const end = this.box[1];
      for (let t = this.box[0] + jitter * stepSize; t < end && n < maxSamples; t += stepSize) {
        const x = ox + t * dx, y = oy + t * dy, z = oz + t * dz;
        const cell = cellIndex(grid, x, y, z);
        if (cell < 0 || grid.occupied[cell] === 0) continue;
        if (!kernels.toUnit(x, y, z, this.toUnitOut)) continue;
        const u = this.toUnitOut;
        this.unit[n * 3] = u[0];
        this.unit[n * 3 + 1] = u[1];
        this.unit[n * 3 + 2] = u[2];
        const s = kernels.forward(params, u[0], u[1], u[2], dx, dy, dz, this.tape, n * stride);
        this.sigma[n] = s;
        this.delta[n] = stepSize;
        this.rgb[n * 3] = kernels.rgb(this.tape, n * stride, 0);
        this.rgb[n * 3 + 1] = kernels.rgb(this.tape, n * stride, 1);
        this.rgb[n * 3 + 2] = kernels.rgb(this.tape, n * stride, 2);
        const alpha = 1 - Math.exp(-s * stepSize);
        depth += transmittance * alpha * t;
        if (depths) depths[n] = t;
        transmittance *= 1 - alpha;
        n++;
        if (transmittance < minTransmittance) break;
      }
    }
    this.samples = n;
    this.depth = depth;
    compositeForward(n, this.sigma, this.rgb, this.delta, background, this.composite, this.weights);
    return n;
  }

  /**
   * One training ray: renders it, compares with `target` (RGB already composited over the same
   * background), and adds `lossScale`·d(loss)/d(params) into `grads`. Returns the squared error
   * summed over the three channels (for PSNR reporting), whatever the loss kind.
   */
  train(
    params: FloatArray, grads: FloatArray, ray: ArrayLike<number>, jitter: number, background: ArrayLike<number>,
    target: ArrayLike<number>, loss: LossKind, lossScale: number,
  ): number {
    const n = this.render(params, ray, jitter, background);
    const c = this.composite;
    const dColor = [0, 0, 0];
    let squaredError = 0;
    for (let k = 0; k < 3; k++) {
      const e = c[k] - target[k];
      squaredError += e * e;
      dColor[k] = lossScale * (loss === 'l2' ? 2 * e : Math.abs(e) <= HUBER_DELTA ? e / HUBER_DELTA : Math.sign(e));
    }
    if (n === 0) return squaredError;
    compositeBackward(n, this.rgb, this.delta, background, this.weights, 1 - c[3], dColor, 0, this.dSigma, this.dRgb);
    const stride = this.kernels.tapeStride;
    for (let i = 0; i < n; i++) {
      this.kernels.backward(
        params, grads, this.tape, i * stride, this.unit[i * 3], this.unit[i * 3 + 1], this.unit[i * 3 + 2],
        this.dSigma[i], this.dRgb[i * 3], this.dRgb[i * 3 + 1], this.dRgb[i * 3 + 2], this.scratch,
      );
    }
    return squaredError;
  }
}
