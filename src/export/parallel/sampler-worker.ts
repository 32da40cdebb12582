import { parentPort, workerData } from 'node:worker_threads';
import { fittedFieldSampler } from '../../nerf/field/fitted-field.js';
import { CONTROL, KIND_STOP, type SamplerWorkerInit, evaluateChunks } from './protocol.js';

/**
 * Worker side of the parallel field sampler: rebuilds the fitted field over shared memory, then
 * sleeps on the control word and helps with every job until told to stop. It never uses its
 * event loop after start-up, so jobs cost no message round trip.
 */
function run(init: SamplerWorkerInit): void {
  const g = init.grid;
  const field = fittedFieldSampler({
    config: init.config,
    march: { stepSize: 1, maxSamples: 1, minTransmittance: 0 },
    params: new Float32Array(init.params),
    adamM: new Float32Array(0),
    adamV: new Float32Array(0),
    grid: {
      resolution: g.resolution, boundsMin: g.boundsMin, boundsMax: g.boundsMax,
      density: new Float32Array(g.density), carved: new Uint8Array(g.carved), occupied: new Uint8Array(g.occupied),
    },
    step: 0, seconds: 0, seed: 0,
  });
  const control = new Int32Array(init.control);
  const points = new Float32Array(init.points);
  const output = new Float32Array(init.output);
  const directions = new Float32Array(init.directions);
  let generation = Atomics.load(control, CONTROL.GENERATION);
  parentPort!.postMessage('ready');
  for (;;) {
    Atomics.wait(control, CONTROL.GENERATION, generation);
    generation = Atomics.load(control, CONTROL.GENERATION);
    const kind = Atomics.load(control, CONTROL.KIND);
    if (kind === KIND_STOP) return;
    const count = Atomics.load(control, CONTROL.COUNT);
    try {
      evaluateChunks(field, kind, count, control, points, output, directions);
    } catch (error) {
      Atomics.store(control, CONTROL.FAILED, 1);
      parentPort!.postMessage({ error: String((error as Error)?.stack ?? error) });
    }
    Atomics.add(control, CONTROL.DONE, 1);
    Atomics.notify(control, CONTROL.DONE);
  }
}

if (parentPort && workerData) run(workerData as SamplerWorkerInit);
