import { parentPort } from 'node:worker_threads';
import { FieldKernels } from '../../field/field.js';
import { type OccupancyGrid, cellPoint } from '../../render/occupancy.js';
import { RayMarcher } from '../../render/ray-marcher.js';
import { pixelRay } from '../../render/rays.js';
import { createRandom, mixSeed } from '../../../core/random.js';
import { adamStep } from '../../train/adam.js';
import { type ViewData, viewOfPixel } from '../../train/view-data.js';
import type { AdamMessage, OccupancyMessage, RenderMessage, TrainMessage, WorkerInit, WorkerReply, WorkerRequest } from './protocol.js';

/** Worker-thread side of the CPU backend: one field, mapped onto shared memory at init. */
class CpuWorker {
  private readonly kernels: FieldKernels;
  private readonly params: Float32Array;
  private readonly adamM: Float32Array;
  private readonly adamV: Float32Array;
  private readonly allGrads: Float32Array[];
  private readonly grads: Float32Array;
  private readonly grid: OccupancyGrid;
  private readonly views: ViewData;
  private readonly marcher: RayMarcher;
  private readonly densityScratch: Float32Array;
  private readonly ray = new Float64Array(6);

  constructor(private readonly init: WorkerInit) {
    this.kernels = new FieldKernels(init.config);
    this.params = new Float32Array(init.params);
    this.adamM = new Float32Array(init.adamM);
    this.adamV = new Float32Array(init.adamV);
    this.allGrads = init.grads.map((b) => new Float32Array(b));
    this.grads = this.allGrads[init.workerIndex];
    const g = init.grid;
    this.grid = {
      resolution: g.resolution, boundsMin: g.boundsMin, boundsMax: g.boundsMax,
      density: new Float32Array(g.density), carved: new Uint8Array(g.carved), occupied: new Uint8Array(g.occupied),
    };
    const v = init.views;
    this.views = {
      count: v.count, cameras: new Float64Array(v.cameras), pixels: new Uint8Array(v.pixels),
      pixelOffsets: new Float64Array(v.pixelOffsets), widths: new Int32Array(v.widths), heights: new Int32Array(v.heights),
    };
    this.marcher = new RayMarcher(this.kernels, this.grid, init.march);
    this.densityScratch = new Float32Array(this.kernels.densityScratchSize);
  }

  train(message: TrainMessage): WorkerReply {
    const random = createRandom(mixSeed(message.seed, message.step, this.init.workerIndex, 1));
    const views = this.views;
    const totalPixels = views.pixelOffsets[views.count];
    const background = [0, 0, 0];
    const target = [0, 0, 0];
    let squaredError = 0;
    let samples = 0;
    for (let r = 0; r < message.rays; r++) {
      const pixel = Math.floor(random() * totalPixels);
      const view = viewOfPixel(views, pixel);
      const local = pixel - views.pixelOffsets[view];
      const width = views.widths[view];
      const px = local % width, py = Math.floor(local / width);
      pixelRay(views.cameras, view, px + 0.5, py + 0.5, this.ray);
      const p = pixel * 4;
      const alpha = views.pixels[p + 3] / 255;
      for (let k = 0; k < 3; k++) {
        background[k] = random();
        target[k] = (views.pixels[p + k] / 255) * alpha + background[k] * (1 - alpha);
      }
      squaredError += this.marcher.train(this.params, this.grads, this.ray, random(), background, target, message.loss, message.lossScale);
      samples += this.marcher.samples;
    }
    return { type: 'done', squaredError, samples, rays: message.rays };
  }

  /** Adam over parameters [from, to): sums every worker's gradients, updates, zeroes them. */
  adam(message: AdamMessage): WorkerReply {
    adamStep(this.params, this.adamM, this.adamV, this.allGrads, message.from, message.to, this.kernels.layout.encodingSize, message.step, message.settings);
    return { type: 'done' };
  }

  occupancy(message: OccupancyMessage): WorkerReply {
    const random = createRandom(mixSeed(message.seed, message.from, 2));
    const grid = this.grid;
    const point = new Float64Array(3);
    const unit = new Float32Array(3);
    for (let i = message.from; i < message.to; i++) {
      if (grid.carved[i]) continue;
      cellPoint(grid, i, random(), random(), random(), point);
      this.kernels.toUnit(point[0], point[1], point[2], unit);
      const sigma = this.kernels.density(this.params, unit[0], unit[1], unit[2], this.densityScratch);
      grid.density[i] = Math.max(grid.density[i] * message.decay, sigma);
    }
    return { type: 'done' };
  }

  render(message: RenderMessage): WorkerReply {
    const output = new Float32Array(message.output);
    const camera = message.camera;
    let samples = 0;
    for (let y = message.rowFrom; y < message.rowTo; y++) {
      for (let x = 0; x < message.width; x++) {
        pixelRay(camera, 0, x + 0.5, y + 0.5, this.ray);
        this.marcher.render(this.params, this.ray, 0.5, message.background);
        samples += this.marcher.samples;
        output.set(this.marcher.composite, (y * message.width + x) * 4);
      }
    }
    return { type: 'done', samples };
  }
}

let worker: CpuWorker | null = null;
const port = parentPort;
if (!port) throw new Error('cpu backend worker started outside a worker thread');

port.on('message', (request: WorkerRequest) => {
  let reply: WorkerReply;
  try {
    if (request.type === 'init') {
      worker = new CpuWorker(request);
      reply = { type: 'done' };
    } else if (!worker) {
      throw new Error('worker used before init');
    } else if (request.type === 'train') reply = worker.train(request);
    else if (request.type === 'adam') reply = worker.adam(request);
    else if (request.type === 'occupancy') reply = worker.occupancy(request);
    else reply = worker.render(request);
  } catch (error) {
    reply = { type: 'error', message: error instanceof Error ? error.message : String(error), stack: error instanceof Error ? error.stack : undefined };
  }
  port.postMessage(reply);
});
