import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { fittedFieldSampler } from '../../nerf/field/fitted-field.js';
import type { FitState } from '../../nerf/train/fit.js';
import type { FieldSampler } from '../field-sampler.js';
import { CONTROL, KIND_COLOR, KIND_COLOR_DIRECTED, KIND_DENSITY, KIND_STOP, type SamplerWorkerInit, evaluateChunks } from './protocol.js';

export interface ParallelSamplerOptions {
  /** Threads evaluating the field, the calling thread included (default: all cores). */
  threads?: number;
  /** Points one job can hold; larger calls are split (default 65 536). */
  capacity?: number;
}

/** A FieldSampler whose evaluations are spread over worker threads; `close` ends the workers. */
export interface ParallelFieldSampler extends FieldSampler {
  readonly threads: number;
  close(): Promise<void>;
}

/**
 * A fitted field as a FieldSampler that evaluates density and colour on `threads` threads: the
 * caller's thread and `threads − 1` workers sharing the parameters and occupancy grid. Calls stay
 * synchronous (the caller helps, then waits on an atomic counter), so every exporter works with it
 * unchanged and gives bit-identical results to `fittedFieldSampler(state)`.
 *
 * @example
 * const field = await parallelFieldSampler(state, { threads: 2 });
 * try { await exportMeshGlb(field, 'head.glb'); } finally { await field.close(); }
 */
export async function parallelFieldSampler(state: FitState, options: ParallelSamplerOptions = {}): Promise<ParallelFieldSampler> {
  const threads = Math.max(1, Math.floor(options.threads ?? availableParallelism()));
  const capacity = options.capacity ?? 65_536;
  const local = fittedFieldSampler(state);
  const marchStep = state.march.stepSize;
  if (threads === 1) return { ...local, marchStep, threads, close: async () => {} };

  const grid = state.grid;
  const init: SamplerWorkerInit = {
    config: state.config,
    params: toShared(state.params),
    grid: {
      resolution: grid.resolution, boundsMin: grid.boundsMin, boundsMax: grid.boundsMax,
      density: toShared(grid.density), carved: toShared(grid.carved), occupied: toShared(grid.occupied),
    },
    control: new SharedArrayBuffer(CONTROL.LENGTH * 4),
    points: new SharedArrayBuffer(capacity * 3 * 4),
    output: new SharedArrayBuffer(capacity * 3 * 4),
    directions: new SharedArrayBuffer(capacity * 3 * 4),
  };
  const control = new Int32Array(init.control);
  const points = new Float32Array(init.points);
  const output = new Float32Array(init.output);
  const directionBuffer = new Float32Array(init.directions);
  const workers = Array.from({ length: threads - 1 }, () => startWorker(init));
  await Promise.all(workers.map((worker) => new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', reject);
  })));

  const job = (kind: number, xyz: Float32Array, count: number, out: Float32Array, directions?: Float32Array): void => {
    const width = kind === KIND_DENSITY ? 1 : 3;
    for (let from = 0; from < count; from += capacity) {
      const n = Math.min(capacity, count - from);
      points.set(xyz.subarray(from * 3, (from + n) * 3));
      if (directions) directionBuffer.set(directions.subarray(from * 3, (from + n) * 3));
      Atomics.store(control, CONTROL.KIND, kind);
      Atomics.store(control, CONTROL.COUNT, n);
      Atomics.store(control, CONTROL.NEXT, 0);
      Atomics.store(control, CONTROL.DONE, 0);
      Atomics.add(control, CONTROL.GENERATION, 1);
      Atomics.notify(control, CONTROL.GENERATION);
      evaluateChunks(local, kind, n, control, points, output, directionBuffer);
      for (let done = Atomics.load(control, CONTROL.DONE); done < workers.length; done = Atomics.load(control, CONTROL.DONE)) {
        Atomics.wait(control, CONTROL.DONE, done);
      }
      if (Atomics.load(control, CONTROL.FAILED)) throw new Error('parallelFieldSampler: a worker failed to evaluate the field');
      out.set(output.subarray(0, n * width), from * width);
    }
  };
  let closed = false;
  return {
    boundsMin: local.boundsMin,
    boundsMax: local.boundsMax,
    occupied: local.occupied,
    marchStep,
    threads,
    density: (xyz, count, out) => job(KIND_DENSITY, xyz, count, out),
    color: (xyz, count, out, directions) => (directions ? job(KIND_COLOR_DIRECTED, xyz, count, out, directions) : job(KIND_COLOR, xyz, count, out)),
    async close() {
      if (closed) return;
      closed = true;
      Atomics.store(control, CONTROL.KIND, KIND_STOP);
      Atomics.add(control, CONTROL.GENERATION, 1);
      Atomics.notify(control, CONTROL.GENERATION);
      await Promise.all(workers.map((worker) => worker.terminate()));
    },
  };
}

/**
 * A worker running the compiled .js next to this file, or — when this module runs from source
 * (tests, benchmarks) — the .ts worker loaded through tsx's loader (as the CPU backend does).
 */
function startWorker(init: SamplerWorkerInit): Worker {
  const here = import.meta.url;
  let worker: Worker;
  if (!here.endsWith('.ts')) {
    worker = new Worker(new URL('./sampler-worker.js', here), { workerData: init });
  } else {
    const tsxApi = pathToFileURL(createRequire(here).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
    const source = new URL('./sampler-worker.ts', here).href;
    worker = new Worker(`import(${JSON.stringify(tsxApi)}).then((api) => { api.register(); return import(${JSON.stringify(source)}); });`, { eval: true, workerData: init });
  }
  worker.unref();
  return worker;
}

function toShared(array: Float32Array | Uint8Array): SharedArrayBuffer {
  if (array.buffer instanceof SharedArrayBuffer && array.byteOffset === 0 && array.byteLength === array.buffer.byteLength) return array.buffer;
  const shared = new SharedArrayBuffer(array.byteLength);
  new Uint8Array(shared).set(new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
  return shared;
}
