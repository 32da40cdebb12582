import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { BackendSetup, FitBackend, TrainStepRequest, TrainStepResult } from '../backend.js';
import { parameterLayout } from '../../field/config.js';
import type { WorkerInit, WorkerReply, WorkerRequest } from './protocol.js';

/**
 * A worker running the compiled .js next to this file, or — when this module runs from source
 * (tests, benchmarks) — the .ts worker loaded through tsx's loader, registered inside the worker.
 */
function startWorker(): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./worker.js', here));
  const tsxApi = pathToFileURL(createRequire(here).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const source = new URL('./worker.ts', here).href;
  return new Worker(`import(${JSON.stringify(tsxApi)}).then((api) => { api.register(); return import(${JSON.stringify(source)}); });`, { eval: true });
}

function shared(array: ArrayBufferView): SharedArrayBuffer {
  if (!(array.buffer instanceof SharedArrayBuffer)) throw new Error('cpu backend: expected shared memory');
  return array.buffer;
}

/**
 * The TypeScript backend: the field's kernels run on `threads` worker threads over shared
 * memory. Each worker traces its share of the step's rays into its own gradient buffer; the Adam
 * step then splits the parameter vector between the workers, summing their gradients in a fixed
 * order, so a run is reproducible for a seed and a thread count.
 */
export class CpuBackend implements FitBackend {
  readonly name = 'cpu';
  private readonly workers: Worker[] = [];
  private params!: Float32Array;
  private adamM!: Float32Array;
  private adamV!: Float32Array;
  private setupState?: BackendSetup;

  constructor(readonly threads: number = Math.max(1, availableParallelism())) {
    for (let i = 0; i < threads; i++) {
      const worker = startWorker();
      worker.unref();
      this.workers.push(worker);
    }
  }

  private call(worker: Worker, request: WorkerRequest): Promise<WorkerReply> {
    return new Promise((resolve, reject) => {
      const onMessage = (reply: WorkerReply) => {
        worker.off('error', onError);
        if (reply.type === 'error') reject(Object.assign(new Error(`cpu backend worker: ${reply.message}`), { stack: reply.stack }));
        else resolve(reply);
      };
      const onError = (error: Error) => {
        worker.off('message', onMessage);
        reject(error);
      };
      worker.once('message', onMessage);
      worker.once('error', onError);
      worker.postMessage(request);
    });
  }

  private all(make: (index: number) => WorkerRequest): Promise<WorkerReply[]> {
    return Promise.all(this.workers.map((w, i) => this.call(w, make(i))));
  }

  private split(total: number, index: number): [number, number] {
    const per = Math.ceil(total / this.threads);
    return [Math.min(total, index * per), Math.min(total, (index + 1) * per)];
  }

  async setup(setup: BackendSetup): Promise<void> {
    this.setupState = setup;
    const total = parameterLayout(setup.config).total;
    if (setup.params.length !== total) throw new Error(`cpu backend: ${setup.params.length} parameters given, the config needs ${total}`);
    const floats = () => new Float32Array(new SharedArrayBuffer(total * 4));
    this.params = floats();
    this.params.set(setup.params);
    this.adamM = floats();
    this.adamV = floats();
    if (setup.adam) {
      this.adamM.set(setup.adam.m);
      this.adamV.set(setup.adam.v);
    }
    const grads = this.workers.map(() => shared(floats()));
    const { grid, views } = setup;
    await this.all((workerIndex) => ({
      type: 'init', workerIndex, threads: this.threads, config: setup.config, march: setup.march,
      params: shared(this.params), adamM: shared(this.adamM), adamV: shared(this.adamV), grads,
      grid: {
        resolution: grid.resolution, boundsMin: grid.boundsMin, boundsMax: grid.boundsMax,
        density: shared(grid.density), carved: shared(grid.carved), occupied: shared(grid.occupied),
      },
      views: {
        count: views.count, cameras: shared(views.cameras), pixels: shared(views.pixels),
        pixelOffsets: shared(views.pixelOffsets), widths: shared(views.widths), heights: shared(views.heights),
      },
    }));
  }

  async trainStep(request: TrainStepRequest): Promise<TrainStepResult> {
    const lossScale = 1 / request.rays;
    const replies = await this.all((i) => {
      const [from, to] = this.split(request.rays, i);
      return { type: 'train', step: request.step, rays: to - from, seed: request.seed, loss: request.loss, lossScale };
    });
    await this.all((i) => {
      const [from, to] = this.split(this.params.length, i);
      return { type: 'adam', step: request.step, from, to, settings: request.adam };
    });
    return replies.reduce<TrainStepResult>(
      (sum, r) => ({ squaredError: sum.squaredError + (r.squaredError ?? 0), rays: sum.rays + (r.rays ?? 0), samples: sum.samples + (r.samples ?? 0) }),
      { squaredError: 0, rays: 0, samples: 0 },
    );
  }

  async updateOccupancy(request: { step: number; seed: number; decay: number }): Promise<void> {
    const grid = this.setupState!.grid;
    const cells = grid.density.length;
    await this.all((i) => {
      const [from, to] = this.split(cells, i);
      return { type: 'occupancy', from, to, seed: request.seed ^ request.step, decay: request.decay };
    });
  }

  async render(camera: Float64Array, width: number, height: number, background: [number, number, number]): Promise<Float32Array> {
    const output = new SharedArrayBuffer(width * height * 4 * 4);
    // Interleaved row bands balance the head (expensive) against the background (cheap).
    const band = 8;
    const bands = Math.ceil(height / band);
    const jobs: Promise<WorkerReply>[] = [];
    const queue = Array.from({ length: bands }, (_, b) => b);
    const runWorker = async (worker: Worker) => {
      for (let b = queue.shift(); b !== undefined; b = queue.shift()) {
        await this.call(worker, { type: 'render', camera, width, height, rowFrom: b * band, rowTo: Math.min(height, (b + 1) * band), background, output });
      }
      return { type: 'done' } as WorkerReply;
    };
    for (const worker of this.workers) jobs.push(runWorker(worker));
    await Promise.all(jobs);
    return new Float32Array(output);
  }

  async snapshot(): Promise<{ params: Float32Array; adamM: Float32Array; adamV: Float32Array }> {
    return { params: this.params.slice(), adamM: this.adamM.slice(), adamV: this.adamV.slice() };
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
