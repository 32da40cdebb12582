import type { FieldConfig } from '../../field/config.js';
import type { AdamSettings } from '../backend.js';
import type { LossKind, MarchOptions } from '../../render/ray-marcher.js';

/** Shared buffers and settings a worker maps once. */
export interface WorkerInit {
  type: 'init';
  workerIndex: number;
  threads: number;
  config: FieldConfig;
  march: MarchOptions;
  params: SharedArrayBuffer;
  adamM: SharedArrayBuffer;
  adamV: SharedArrayBuffer;
  grads: SharedArrayBuffer[];
  grid: {
    resolution: number;
    boundsMin: [number, number, number];
    boundsMax: [number, number, number];
    density: SharedArrayBuffer;
    carved: SharedArrayBuffer;
    occupied: SharedArrayBuffer;
  };
  views: {
    count: number;
    cameras: SharedArrayBuffer;
    pixels: SharedArrayBuffer;
    pixelOffsets: SharedArrayBuffer;
    widths: SharedArrayBuffer;
    heights: SharedArrayBuffer;
  };
}

export interface TrainMessage {
  type: 'train';
  step: number;
  rays: number;
  seed: number;
  loss: LossKind;
  lossScale: number;
}

export interface AdamMessage {
  type: 'adam';
  step: number;
  from: number;
  to: number;
  settings: AdamSettings;
}

export interface OccupancyMessage {
  type: 'occupancy';
  from: number;
  to: number;
  seed: number;
  decay: number;
}

export interface RenderMessage {
  type: 'render';
  camera: Float64Array;
  width: number;
  height: number;
  rowFrom: number;
  rowTo: number;
  background: [number, number, number];
  output: SharedArrayBuffer;
}

export type WorkerRequest = WorkerInit | TrainMessage | AdamMessage | OccupancyMessage | RenderMessage;

export interface WorkerReply {
  type: 'done' | 'error';
  squaredError?: number;
  samples?: number;
  rays?: number;
  message?: string;
  stack?: string;
}
