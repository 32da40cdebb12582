import type { FieldConfig } from '../../nerf/field/config.js';
import type { FieldSampler } from '../field-sampler.js';

/**
 * Shared-memory protocol between the parallel field sampler and its workers. The control words
 * live in an Int32Array; a job is published by bumping GENERATION, and every thread (the caller
 * included) then claims chunks of points through NEXT until none are left.
 */
export const CONTROL = {
  /** Bumped once per job; workers sleep on it. */
  GENERATION: 0,
  /** 0 = density, 1 = colour, −1 = stop. */
  KIND: 1,
  /** Points in the job. */
  COUNT: 2,
  /** Next unclaimed point (claimed CHUNK at a time). */
  NEXT: 3,
  /** Workers that have finished the job. */
  DONE: 4,
  /** Set to 1 by a worker whose evaluation threw (the job's results are then unusable). */
  FAILED: 5,
  /** Length of the control array. */
  LENGTH: 6,
} as const;

export const KIND_DENSITY = 0;
export const KIND_COLOR = 1;
/** Colour seen along the view directions in the `directions` buffer. */
export const KIND_COLOR_DIRECTED = 2;
export const KIND_STOP = -1;

/** Points per claim: small enough to balance empty against dense regions, large enough to be cheap. */
export const CHUNK = 512;

/** What a worker needs to rebuild the fitted field on its side; every buffer is shared. */
export interface SamplerWorkerInit {
  config: FieldConfig;
  params: SharedArrayBuffer;
  grid: {
    resolution: number;
    boundsMin: [number, number, number];
    boundsMax: [number, number, number];
    density: SharedArrayBuffer;
    carved: SharedArrayBuffer;
    occupied: SharedArrayBuffer;
  };
  control: SharedArrayBuffer;
  /** xyz of up to `capacity` points. */
  points: SharedArrayBuffer;
  /** Up to 3 floats per point. */
  output: SharedArrayBuffer;
  /** xyz view direction of up to `capacity` points (KIND_COLOR_DIRECTED jobs). */
  directions: SharedArrayBuffer;
}

/** Claims and evaluates chunks of the current job until none are left (run by every thread). */
export function evaluateChunks(
  field: FieldSampler, kind: number, count: number, control: Int32Array, points: Float32Array, output: Float32Array, directions: Float32Array,
): void {
  const width = kind === KIND_DENSITY ? 1 : 3;
  for (;;) {
    const start = Atomics.add(control, CONTROL.NEXT, CHUNK);
    if (start >= count) return;
    const n = Math.min(CHUNK, count - start);
    const xyz = points.subarray(start * 3, (start + n) * 3);
    const out = output.subarray(start * width, (start + n) * width);
    if (kind === KIND_COLOR) field.color(xyz, n, out);
    else if (kind === KIND_COLOR_DIRECTED) field.color(xyz, n, out, directions.subarray(start * 3, (start + n) * 3));
    else field.density(xyz, n, out);
  }
}
