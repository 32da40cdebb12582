import type { FieldConfig } from '../field/config.js';
import type { LossKind, MarchOptions } from '../render/ray-marcher.js';
import type { OccupancyGrid } from '../render/occupancy.js';
import type { ViewData } from '../train/view-data.js';

/** Everything a backend needs to train and render one field. */
export interface BackendSetup {
  config: FieldConfig;
  march: MarchOptions;
  /** Initial parameters (copied into the backend's own memory). */
  params: Float32Array;
  /** Adam moments to resume from; zeros when absent. */
  adam?: { m: Float32Array; v: Float32Array };
  grid: OccupancyGrid;
  views: ViewData;
}

export interface AdamSettings {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** L2 regularisation on MLP weights (not on the hash table). */
  weightDecay: number;
}

export interface TrainStepRequest {
  step: number;
  rays: number;
  seed: number;
  loss: LossKind;
  adam: AdamSettings;
}

export interface TrainStepResult {
  /** Sum over rays of the squared colour error (3 channels), for PSNR. */
  squaredError: number;
  rays: number;
  samples: number;
}

/**
 * A compute backend for the fit: the trainer calls these and holds no kernel logic itself. The
 * CPU backend runs them on worker threads over shared memory; the WebGPU backend implements the
 * same calls in WGSL.
 */
export interface FitBackend {
  readonly name: string;
  readonly threads: number;
  setup(setup: BackendSetup): Promise<void>;
  /** One optimisation step: draw rays, forward, backward, Adam. */
  trainStep(request: TrainStepRequest): Promise<TrainStepResult>;
  /** Decays the occupancy grid's density and re-samples it (the caller then refreshes the occupied bits). */
  updateOccupancy(request: { step: number; seed: number; decay: number }): Promise<void>;
  /** Renders a camera (packed, see packCamera) to RGBA float32 (sRGB-encoded values, straight composite over `background`). */
  render(camera: Float64Array, width: number, height: number, background: [number, number, number]): Promise<Float32Array>;
  /** A copy of the current parameters and Adam moments (a device backend reads them back). */
  snapshot(): Promise<{ params: Float32Array; adamM: Float32Array; adamV: Float32Array }>;
  close(): Promise<void>;
}
