import { type FieldConfig, DEFAULT_FIELD_CONFIG, parameterLayout } from '../field/config.js';
import { FieldKernels, initParameters } from '../field/field.js';
import type { AdamSettings, FitBackend } from '../backends/backend.js';
import { carveFromSilhouettes } from '../render/carve.js';
import { type OccupancyGrid, createOccupancyGrid, refreshOccupied } from '../render/occupancy.js';
import type { LossKind, MarchOptions } from '../render/ray-marcher.js';
import { createRandom, mixSeed } from '../../core/random.js';
import type { ViewData } from './view-data.js';

export interface FitOptions {
  config?: FieldConfig;
  /** Stop after this many steps… */
  steps?: number;
  /** …or after this many seconds of training, whichever comes first. */
  timeSeconds?: number;
  raysPerStep?: number;
  learningRate?: number;
  /** Learning rate at the end of the run (exponential decay from `learningRate`). */
  finalLearningRate?: number;
  loss?: LossKind;
  seed?: number;
  occupancyResolution?: number;
  occupancyInterval?: number;
  occupancyDecay?: number;
  /** First step at which the occupancy grid is updated from the field (the carved hull is used until then). */
  occupancyWarmup?: number;
  /** Log-density the field starts with (see initParameters). */
  initialLogDensity?: number;
  /** Carve the occupancy grid from the views' alpha masks (visual hull) before training. */
  carve?: boolean;
  march?: Partial<MarchOptions>;
  /**
   * Called after every step. Return true to stop early. Time spent here (checkpoints, evaluations)
   * does not count toward `timeSeconds`.
   */
  onStep?: (stats: FitProgress) => boolean | void | Promise<boolean | void>;
  /** Resume from this state instead of initialising. */
  resume?: FitState;
}

export const FIT_DEFAULTS = {
  steps: 2000,
  raysPerStep: 4096,
  learningRate: 1e-2,
  finalLearningRate: 1e-3,
  loss: 'l2' as LossKind,
  seed: 42,
  occupancyResolution: 64,
  occupancyInterval: 16,
  occupancyDecay: 0.95,
  occupancyWarmup: 64,
  carve: true,
  initialLogDensity: 6,
  march: { stepSize: Math.sqrt(3) / 256, maxSamples: 512, minTransmittance: 1e-2 } satisfies MarchOptions,
};

export const ADAM_DEFAULTS: Omit<AdamSettings, 'learningRate'> = { beta1: 0.9, beta2: 0.99, epsilon: 1e-15, weightDecay: 1e-6 };

export interface FitProgress {
  step: number;
  totalSteps: number;
  seconds: number;
  /** PSNR of the step's rays (over random backgrounds). */
  trainPsnr: number;
  samplesPerSecond: number;
  samplesPerRay: number;
  learningRate: number;
  occupiedCells: number;
  /** The state as of this step (copies the parameters: call it only when checkpointing). */
  state: () => Promise<FitState>;
}

/** Everything needed to continue or use a fit: what a checkpoint stores. */
export interface FitState {
  config: FieldConfig;
  march: MarchOptions;
  params: Float32Array;
  adamM: Float32Array;
  adamV: Float32Array;
  grid: OccupancyGrid;
  step: number;
  seconds: number;
  seed: number;
}

export interface FitResult {
  state: FitState;
  steps: number;
  seconds: number;
  samples: number;
  finalTrainPsnr: number;
}

/**
 * Fits a hash-grid radiance field to a view set on a compute backend. The loop holds no kernel
 * logic: it schedules steps, the learning rate and occupancy updates, and reports progress.
 */
export async function fitField(views: ViewData, backend: FitBackend, options: FitOptions = {}): Promise<FitResult> {
  const o = { ...FIT_DEFAULTS, ...options, march: { ...FIT_DEFAULTS.march, ...options.march } };
  const config = options.resume?.config ?? options.config ?? DEFAULT_FIELD_CONFIG;
  const march = options.resume?.march ?? o.march;
  const totalSteps = options.steps ?? (options.timeSeconds ? Number.POSITIVE_INFINITY : o.steps);
  const seed = options.resume?.seed ?? o.seed;

  let grid: OccupancyGrid;
  let params: Float32Array;
  let startStep = 0;
  let priorSeconds = 0;
  if (options.resume) {
    grid = options.resume.grid;
    params = options.resume.params;
    startStep = options.resume.step;
    priorSeconds = options.resume.seconds;
  } else {
    grid = createOccupancyGrid(o.occupancyResolution, config.boundsMin, config.boundsMax, (b) => new SharedArrayBuffer(b));
    if (o.carve) carveFromSilhouettes(grid, silhouettes(views));
    params = new Float32Array(parameterLayout(config).total);
    initParameters(new FieldKernels(config), createRandom(mixSeed(seed, 0)), params, o.initialLogDensity);
  }
  await backend.setup({
    config, march, params, grid, views,
    adam: options.resume ? { m: options.resume.adamM, v: options.resume.adamV } : undefined,
  });

  // A cell is occupied when one step through it would absorb at least 1 % of the light, or, early
  // on, when its density is above the grid's mean (instant-ngp's rule, so a fresh field keeps cells).
  const densityThreshold = -Math.log(0.99) / march.stepSize;
  let occupiedCells = grid.occupied.reduce((n, v) => n + v, 0);
  const started = performance.now();
  let samples = 0;
  let step = startStep;
  let trainPsnr = 0;
  let pausedMs = 0;
  const elapsed = () => priorSeconds + (performance.now() - started - pausedMs) / 1000;
  while (step < totalSteps && !(options.timeSeconds !== undefined && elapsed() >= options.timeSeconds)) {
    step++;
    const progress = Math.min(1, Math.max(
      Number.isFinite(totalSteps) ? step / totalSteps : 0,
      options.timeSeconds ? elapsed() / options.timeSeconds : 0,
    ));
    const learningRate = o.learningRate * (o.finalLearningRate / o.learningRate) ** progress;
    const stepStart = performance.now();
    const result = await backend.trainStep({ step, rays: o.raysPerStep, seed, loss: o.loss, adam: { ...ADAM_DEFAULTS, learningRate } });
    const stepSeconds = (performance.now() - stepStart) / 1000;
    samples += result.samples;
    trainPsnr = -10 * Math.log10(result.squaredError / (3 * result.rays));
    if (step >= o.occupancyWarmup && step % o.occupancyInterval === 0) {
      await backend.updateOccupancy({ step, seed: mixSeed(seed, step, 3), decay: o.occupancyDecay });
      occupiedCells = refreshOccupied(grid, Math.min(densityThreshold, meanDensity(grid)));
    }
    const callbackStart = performance.now();
    const stop = await options.onStep?.({
      step, totalSteps, seconds: elapsed(), trainPsnr,
      samplesPerSecond: result.samples / stepSeconds, samplesPerRay: result.samples / result.rays,
      learningRate, occupiedCells,
      state: async () => {
        const snapshot = await backend.snapshot();
        return { config, march, params: snapshot.params, adamM: snapshot.adamM, adamV: snapshot.adamV, grid, step, seconds: elapsed(), seed };
      },
    });
    pausedMs += performance.now() - callbackStart;
    if (stop === true) break;
  }
  const snapshot = await backend.snapshot();
  return {
    state: { config, march, params: snapshot.params, adamM: snapshot.adamM, adamV: snapshot.adamV, grid, step, seconds: elapsed(), seed },
    steps: step - startStep,
    seconds: elapsed(),
    samples,
    finalTrainPsnr: trainPsnr,
  };
}

function meanDensity(grid: OccupancyGrid): number {
  let sum = 0;
  let count = 0;
  for (let i = 0; i < grid.density.length; i++) {
    if (grid.carved[i]) continue;
    sum += grid.density[i];
    count++;
  }
  return count ? sum / count : 0;
}

function silhouettes(views: ViewData) {
  return Array.from({ length: views.count }, (_, i) => {
    const width = views.widths[i], height = views.heights[i];
    const alpha = new Uint8Array(width * height);
    const start = views.pixelOffsets[i];
    for (let p = 0; p < width * height; p++) alpha[p] = views.pixels[(start + p) * 4 + 3];
    return { alpha, width, height, cameras: views.cameras, cameraIndex: i };
  });
}
