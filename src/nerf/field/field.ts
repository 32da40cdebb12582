import {
  type DenseLayerLayout, type FieldConfig, type LevelLayout, type ParameterLayout, parameterLayout, shCoefficientCount,
} from './config.js';
import { encodeSh } from './sh.js';

/** Float32 in production, Float64 in the gradient tests. */
export type FloatArray = Float32Array | Float64Array;

/** Largest log-density before exp; beyond it the gradient is cut (instant-ngp's truncated exp). */
const MAX_LOG_DENSITY = 11;

const PRIME_Y = 2654435761;
const PRIME_Z = 805459861;

/**
 * The radiance field's per-sample maths: multiresolution hash encoding → density MLP →
 * (geometry features ⊕ SH(view direction)) → colour MLP. Forward passes write the activations a
 * backward pass needs into a caller-provided tape; backward passes accumulate into a gradient
 * vector laid out like the parameters. Stateless apart from the config, so one instance can serve
 * many threads' arrays.
 */
export class FieldKernels {
  readonly layout: ParameterLayout;
  readonly encodedWidth: number;
  readonly shWidth: number;
  /** Floats per sample on the tape. */
  readonly tapeStride: number;
  private readonly levelCount: number;
  private readonly levelResolution: Int32Array;
  private readonly levelOffset: Int32Array;
  private readonly levelDense: Uint8Array;
  private readonly levelMask: Int32Array;
  private readonly cornerIndices = new Int32Array(8);
  private readonly cornerWeights = new Float64Array(8);
  private readonly features: number;
  private readonly boundsMin: [number, number, number];
  private readonly boundsScale: [number, number, number];
  // Tape offsets (relative to a sample's start).
  private readonly densityActivationOffsets: number[];
  readonly geometryOffset: number;
  private readonly shOffset: number;
  private readonly colorActivationOffsets: number[];
  private readonly rgbOffset: number;
  private readonly scratchWidth: number;

  constructor(readonly config: FieldConfig) {
    this.layout = parameterLayout(config);
    const levels: LevelLayout[] = this.layout.levels;
    this.levelCount = levels.length;
    this.levelResolution = Int32Array.from(levels, (l) => l.resolution);
    this.levelOffset = Int32Array.from(levels, (l) => l.offset);
    this.levelDense = Uint8Array.from(levels, (l) => (l.dense ? 1 : 0));
    this.levelMask = Int32Array.from(levels, (l) => l.size - 1);
    this.features = config.encoding.featuresPerLevel;
    this.encodedWidth = config.encoding.levels * this.features;
    this.shWidth = shCoefficientCount(config.shDegree);
    this.boundsMin = [...config.boundsMin];
    this.boundsScale = [0, 1, 2].map((k) => 1 / (config.boundsMax[k] - config.boundsMin[k])) as [number, number, number];
    let offset = this.encodedWidth;
    this.densityActivationOffsets = config.densityHidden.map((w) => ((offset += w), offset - w));
    this.geometryOffset = offset;
    offset += config.geometryFeatures;
    this.shOffset = offset;
    offset += this.shWidth;
    this.colorActivationOffsets = config.colorHidden.map((w) => ((offset += w), offset - w));
    this.rgbOffset = offset;
    offset += 3;
    this.tapeStride = offset;
    this.scratchWidth = Math.max(this.encodedWidth, ...config.densityHidden, ...config.colorHidden, config.geometryFeatures + this.shWidth, 16);
  }

  /** Normalised [0,1]³ coordinates of a world point; false when it lies outside the bounds. */
  toUnit(x: number, y: number, z: number, out: FloatArray): boolean {
    out[0] = (x - this.boundsMin[0]) * this.boundsScale[0];
    out[1] = (y - this.boundsMin[1]) * this.boundsScale[1];
    out[2] = (z - this.boundsMin[2]) * this.boundsScale[2];
    return out[0] >= 0 && out[0] <= 1 && out[1] >= 0 && out[1] <= 1 && out[2] >= 0 && out[2] <= 1;
  }

  /**
   * The 8 grid corners around a point at one level: table indices (in entries, level offset
   * included) into `cornerIndices`, trilinear weights into `cornerWeights`.
   */
  private corners(l: number, ux: number, uy: number, uz: number): void {
    const r = this.levelResolution[l];
    let px = ux * r, py = uy * r, pz = uz * r;
    let x0 = Math.floor(px), y0 = Math.floor(py), z0 = Math.floor(pz);
    if (x0 >= r) x0 = r - 1;
    if (y0 >= r) y0 = r - 1;
    if (z0 >= r) z0 = r - 1;
    px -= x0;
    py -= y0;
    pz -= z0;
    const qx = 1 - px, qy = 1 - py, qz = 1 - pz;
    const w = this.cornerWeights;
    w[0] = qx * qy * qz; w[1] = px * qy * qz; w[2] = qx * py * qz; w[3] = px * py * qz;
    w[4] = qx * qy * pz; w[5] = px * qy * pz; w[6] = qx * py * pz; w[7] = px * py * pz;
    const idx = this.cornerIndices;
    const base = this.levelOffset[l];
    if (this.levelDense[l]) {
      const n = r + 1;
      const i = base + x0 + n * (y0 + n * z0);
      const nn = n * n;
      idx[0] = i; idx[1] = i + 1; idx[2] = i + n; idx[3] = i + n + 1;
      idx[4] = i + nn; idx[5] = i + nn + 1; idx[6] = i + nn + n; idx[7] = i + nn + n + 1;
    } else {
      const mask = this.levelMask[l];
      const x1 = x0 + 1;
      const y0h = Math.imul(y0, PRIME_Y), y1h = Math.imul(y0 + 1, PRIME_Y);
      const z0h = Math.imul(z0, PRIME_Z), z1h = Math.imul(z0 + 1, PRIME_Z);
      idx[0] = base + ((x0 ^ y0h ^ z0h) & mask); idx[1] = base + ((x1 ^ y0h ^ z0h) & mask);
      idx[2] = base + ((x0 ^ y1h ^ z0h) & mask); idx[3] = base + ((x1 ^ y1h ^ z0h) & mask);
      idx[4] = base + ((x0 ^ y0h ^ z1h) & mask); idx[5] = base + ((x1 ^ y0h ^ z1h) & mask);
      idx[6] = base + ((x0 ^ y1h ^ z1h) & mask); idx[7] = base + ((x1 ^ y1h ^ z1h) & mask);
    }
  }

  /** Hash-encodes a point in [0,1]³ into `out[offset .. offset + encodedWidth)`. */
  encode(params: FloatArray, ux: number, uy: number, uz: number, out: FloatArray, offset: number): void {
    const F = this.features;
    const idx = this.cornerIndices, w = this.cornerWeights;
    for (let l = 0; l < this.levelCount; l++) {
      this.corners(l, ux, uy, uz);
      const o = offset + l * F;
      for (let f = 0; f < F; f++) {
        out[o + f] =
          w[0] * params[idx[0] * F + f] + w[1] * params[idx[1] * F + f] + w[2] * params[idx[2] * F + f] + w[3] * params[idx[3] * F + f] +
          w[4] * params[idx[4] * F + f] + w[5] * params[idx[5] * F + f] + w[6] * params[idx[6] * F + f] + w[7] * params[idx[7] * F + f];
      }
    }
  }

  /** Scatters d(loss)/d(encoding) back onto the hash-table entries of the point's 8 corners per level. */
  encodeBackward(grads: FloatArray, ux: number, uy: number, uz: number, dEncoded: FloatArray, offset: number): void {
    const F = this.features;
    const idx = this.cornerIndices, w = this.cornerWeights;
    for (let l = 0; l < this.levelCount; l++) {
      this.corners(l, ux, uy, uz);
      const o = offset + l * F;
      for (let f = 0; f < F; f++) {
        const g = dEncoded[o + f];
        if (g === 0) continue;
        for (let c = 0; c < 8; c++) grads[idx[c] * F + f] += w[c] * g;
      }
    }
  }

  /**
   * Full forward pass for one sample at unit coordinates (ux, uy, uz) seen along the unit world
   * direction (dx, dy, dz). Returns the density σ; the colour is at `tape[tapeOffset + rgbOffset ..]`.
   */
  forward(params: FloatArray, ux: number, uy: number, uz: number, dx: number, dy: number, dz: number, tape: FloatArray, t: number): number {
    this.encode(params, ux, uy, uz, tape, t);
    let input = t;
    const densityLayers = this.layout.densityLayers;
    for (let i = 0; i < densityLayers.length; i++) {
      const last = i === densityLayers.length - 1;
      const output = last ? t + this.geometryOffset : t + this.densityActivationOffsets[i];
      denseForward(params, densityLayers[i], tape, input, tape, output, !last);
      input = output;
    }
    encodeSh(this.config.shDegree, dx, dy, dz, tape, t + this.shOffset);
    input = t + this.geometryOffset; // geometry features and SH are adjacent on the tape
    const colorLayers = this.layout.colorLayers;
    for (let i = 0; i < colorLayers.length; i++) {
      const last = i === colorLayers.length - 1;
      const output = last ? t + this.rgbOffset : t + this.colorActivationOffsets[i];
      denseForward(params, colorLayers[i], tape, input, tape, output, !last);
      input = output;
    }
    for (let k = 0; k < 3; k++) tape[t + this.rgbOffset + k] = 1 / (1 + Math.exp(-tape[t + this.rgbOffset + k]));
    return Math.exp(Math.min(tape[t + this.geometryOffset], MAX_LOG_DENSITY));
  }

  /** Colour of a sample after `forward`. */
  rgb(tape: FloatArray, t: number, k: number): number {
    return tape[t + this.rgbOffset + k];
  }

  /** Density alone (the colour MLP skipped), for occupancy updates and mesh extraction. */
  density(params: FloatArray, ux: number, uy: number, uz: number, scratch: FloatArray): number {
    const half = this.densityScratchSize / 2;
    this.encode(params, ux, uy, uz, scratch, 0);
    let input = 0;
    const layers = this.layout.densityLayers;
    for (let i = 0; i < layers.length; i++) {
      const last = i === layers.length - 1;
      const output = input === 0 ? half : 0;
      // Of the last layer only the log-density output is needed.
      denseForward(params, layers[i], scratch, input, scratch, output, !last, last ? 1 : layers[i].outputs);
      input = output;
    }
    return Math.exp(Math.min(scratch[input], MAX_LOG_DENSITY));
  }

  /** Scratch floats `density` needs. */
  get densityScratchSize(): number {
    return 2 * Math.max(this.encodedWidth, ...this.config.densityHidden, this.config.geometryFeatures);
  }

  /**
   * Backward pass for one sample: given d(loss)/dσ and d(loss)/d(rgb), accumulates parameter
   * gradients. `scratch` needs `2 · scratchSize` floats.
   */
  backward(
    params: FloatArray, grads: FloatArray, tape: FloatArray, t: number, ux: number, uy: number, uz: number,
    dSigma: number, dR: number, dG: number, dB: number, scratch: FloatArray,
  ): void {
    const W = this.scratchWidth;
    // Colour head: sigmoid' = s(1 − s).
    let dOut = 0;
    const rgb = t + this.rgbOffset;
    scratch[0] = dR * tape[rgb] * (1 - tape[rgb]);
    scratch[1] = dG * tape[rgb + 1] * (1 - tape[rgb + 1]);
    scratch[2] = dB * tape[rgb + 2] * (1 - tape[rgb + 2]);
    let dIn = W;
    const colorLayers = this.layout.colorLayers;
    for (let i = colorLayers.length - 1; i >= 0; i--) {
      const inputOffset = i === 0 ? t + this.geometryOffset : t + this.colorActivationOffsets[i - 1];
      denseBackward(params, grads, colorLayers[i], tape, inputOffset, scratch, dOut, scratch, dIn, i > 0);
      [dOut, dIn] = [dIn, dOut];
    }
    // scratch[dOut ..] now holds d/d(geometry features ⊕ SH); SH has no parameters. Add the density path.
    const logDensity = tape[t + this.geometryOffset];
    if (logDensity < MAX_LOG_DENSITY) scratch[dOut] += dSigma * Math.exp(logDensity);
    const densityLayers = this.layout.densityLayers;
    for (let i = densityLayers.length - 1; i >= 0; i--) {
      const inputOffset = i === 0 ? t : t + this.densityActivationOffsets[i - 1];
      denseBackward(params, grads, densityLayers[i], tape, inputOffset, scratch, dOut, scratch, dIn, i > 0);
      [dOut, dIn] = [dIn, dOut];
    }
    this.encodeBackward(grads, ux, uy, uz, scratch, dOut);
  }

  get backwardScratchSize(): number {
    return 2 * this.scratchWidth;
  }
}

/** y = W·x + b (then ReLU when `relu`), for `rows` outputs (default all). */
function denseForward(
  params: FloatArray, layer: DenseLayerLayout, x: FloatArray, xOffset: number, y: FloatArray, yOffset: number,
  relu: boolean, rows = layer.outputs,
): void {
  const n = layer.inputs;
  const biases = layer.offset + layer.inputs * layer.outputs;
  for (let r = 0; r < rows; r++) {
    let sum = params[biases + r];
    const w = layer.offset + r * n;
    for (let c = 0; c < n; c++) sum += params[w + c] * x[xOffset + c];
    y[yOffset + r] = relu && sum < 0 ? 0 : sum;
  }
}

/**
 * Given dL/dy at `dy[dyOffset ..]`, accumulates dL/dW and dL/db and writes dL/dx to `dx[dxOffset ..]`.
 * When `inputIsRelu`, the input x was a ReLU output, so dL/dx is zeroed where x = 0.
 */
function denseBackward(
  params: FloatArray, grads: FloatArray, layer: DenseLayerLayout, x: FloatArray, xOffset: number,
  dy: FloatArray, dyOffset: number, dx: FloatArray, dxOffset: number, inputIsRelu: boolean,
): void {
  const n = layer.inputs;
  const biases = layer.offset + layer.inputs * layer.outputs;
  for (let c = 0; c < n; c++) dx[dxOffset + c] = 0;
  for (let r = 0; r < layer.outputs; r++) {
    const g = dy[dyOffset + r];
    if (g === 0) continue;
    grads[biases + r] += g;
    const w = layer.offset + r * n;
    for (let c = 0; c < n; c++) {
      grads[w + c] += g * x[xOffset + c];
      dx[dxOffset + c] += g * params[w + c];
    }
  }
  if (inputIsRelu) for (let c = 0; c < n; c++) if (x[xOffset + c] <= 0) dx[dxOffset + c] = 0;
}

/**
 * Parameters initialised as instant-ngp does (hash entries U(±1e-4), MLP weights He-uniform, zero
 * biases), except for the log-density bias: starting at `initialLogDensity` makes the fresh field
 * a fog that turns opaque within a few dozen samples, so early rays stop at the first surface of
 * the carved hull instead of crossing it.
 */
export function initParameters(kernels: FieldKernels, random: () => number, array: FloatArray, initialLogDensity = 0): void {
  const { encodingSize, densityLayers, colorLayers } = kernels.layout;
  for (let i = 0; i < encodingSize; i++) array[i] = (random() * 2 - 1) * 1e-4;
  for (const layer of [...densityLayers, ...colorLayers]) {
    const bound = Math.sqrt(6 / layer.inputs);
    for (let i = 0; i < layer.inputs * layer.outputs; i++) array[layer.offset + i] = (random() * 2 - 1) * bound;
    for (let i = 0; i < layer.outputs; i++) array[layer.offset + layer.inputs * layer.outputs + i] = 0;
  }
  const last = densityLayers[densityLayers.length - 1];
  array[last.offset + last.inputs * last.outputs] = initialLogDensity;
}
