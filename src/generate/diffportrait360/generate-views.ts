/**
 * The DiffPortrait360 generation driver (diffportrait360.md §3, §9.6): the back view with the
 * back-view model, then the 32-frame orbit with the 360 model in 4 windows of 8 frames advanced in
 * lock-step, so that the front and back appearance banks are computed once per step (B = 1) and
 * shared by every window. Runs on any DiffusionRuntime (onnxruntime-node, or a fake in tests).
 */
import { PANOHEAD_ORBIT_FRAMES } from '../../core/camera.js';
import { Head3dError } from '../../core/errors.js';
import type { RgbaImage } from '../../core/image.js';
import { mixSeed, normalArray } from '../../core/random.js';
import { type Bundle, RUNTIME_GRAPHS, readBundleContext } from './bundle.js';
import type { SamplerConstants } from './bundle-manifest.js';
import { type DiffPortrait360Config, latentSize } from './config.js';
import { imageToTensor, tensorToImage } from './images.js';
import { readImage } from '../../core/image.js';
import { ddimStep, guidedEpsilon, noisedLatent, posteriorSample } from './sampler/ddim.js';
import { type DdimSchedule, type DdimStepParameters, ddimSchedule } from './sampler/schedule.js';
import { type GraphName, type ModelKind, bankEntries, bankName, controlShapes } from './signatures.js';
import { type DiffusionRuntime, type Tensor, float32Tensor, timestepTensor } from './runtime/tensor.js';

/** The constant inputs of a bundle, ready for the networks. */
export interface DiffusionModels {
  config: DiffPortrait360Config;
  sampler: SamplerConstants;
  /** CLIP-L("") per model, float32 [1, contextLength, contextDim]. */
  contexts: Record<ModelKind, Float32Array>;
  /** The 32 camera hints in orbit order, float32 CHW [3, imageSize, imageSize] in [−1, 1]. */
  hints: Float32Array[];
}

/** Reads a bundle's contexts and hint images into memory. */
export async function loadDiffusionModels(bundle: Bundle): Promise<DiffusionModels> {
  const { config, sampler } = bundle.manifest;
  const hints = await Promise.all(bundle.hintPaths().map(async (path, i) => imageToTensor(await readImage(path, `camera hint ${i}`), config.imageSize)));
  return { config, sampler, contexts: { back: await readBundleContext(bundle, 'back'), orbit: await readBundleContext(bundle, 'orbit') }, hints };
}

export interface GenerateViewsInput {
  /** The portrait crop (preprocess's crop.png, 512²): its RGB is the front reference; alpha is ignored. */
  crop: RgbaImage;
  /** 32 frames on the orbit (a PanoHead render of the subject) for the 3D-aware initial noise; optional. */
  noiseFrames?: RgbaImage[];
}

export type GenerateStage = 'encode' | 'back' | 'orbit' | 'decode' | 'write';

export interface GenerateProgress {
  stage: GenerateStage;
  /** Steps done in this stage (DDIM steps, or frames decoded). */
  done: number;
  total: number;
  /** The window being denoised (orbit stage), 1-based. */
  window?: number;
  windows?: number;
  /** Seconds left for the whole generation, once a step has been timed. */
  etaSeconds?: number;
  message: string;
}

export interface GenerateViewsOptions {
  /** Seed of every noise draw: initial latents, step noise, VAE posterior samples (default 42). */
  seed?: number;
  /** DDIM steps (default: the bundle's, 50); fewer for previews and tests. */
  steps?: number;
  /** Frames per VAE decoder call (default 2). */
  decodeBatch?: number;
  onProgress?: (progress: GenerateProgress) => void;
  /** One-line notes: the up-front time estimate. */
  onNote?: (line: string) => void;
}

export const GENERATE_VIEWS_DEFAULTS = { seed: 42, decodeBatch: 2 };

export interface GeneratedViews {
  /** The 32 orbit frames in orbit order (frame 0 frontal), opaque RGBA at imageSize². */
  frames: RgbaImage[];
  /** The stage-2 back view (180°). */
  back: RgbaImage;
  steps: number;
  seconds: { back: number; orbit: number; decode: number; total: number };
  /** Mean seconds per DDIM step of each stage. */
  stepSeconds: { back: number; orbit: number };
  initialNoise: '3d-aware' | 'gaussian';
}

/** Independent noise streams, so a draw never depends on the order of the others. */
const STREAM = { backPosterior: 1, backInit: 2, backStep: 3, frontPosterior: 4, backRefPosterior: 5, noisePosterior: 6, orbitInit: 7, orbitStep: 8 };

interface StepTimer {
  appearance: number;
  controlnet: number;
  cond: number;
  uncond: number;
}

/**
 * Generates the 32 orbit views and the back view of the portrait.
 *
 * @example
 * const bundle = await loadBundle('models/diffportrait360');
 * const runtime = await createOnnxRuntime(bundle);
 * const views = await generateViews(await loadDiffusionModels(bundle), runtime, { crop });
 */
export async function generateViews(models: DiffusionModels, runtime: DiffusionRuntime, input: GenerateViewsInput, options: GenerateViewsOptions = {}): Promise<GeneratedViews> {
  const o = { ...GENERATE_VIEWS_DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as GenerateViewsOptions & typeof GENERATE_VIEWS_DEFAULTS;
  const { sampler } = models;
  if (models.hints.length !== PANOHEAD_ORBIT_FRAMES) throw new Head3dError(`the bundle has ${models.hints.length} camera hints, expected ${PANOHEAD_ORBIT_FRAMES}`);
  if (input.noiseFrames && input.noiseFrames.length !== PANOHEAD_ORBIT_FRAMES) {
    throw new Head3dError(`--noise-frames holds ${input.noiseFrames.length} frames, expected ${PANOHEAD_ORBIT_FRAMES}`, { hint: 'give the 32 PanoHead renders of the orbit, frame 0 frontal' });
  }
  const schedule = ddimSchedule(sampler, o.steps ?? sampler.steps);
  const started = performance.now();
  const driver = new Driver(models, runtime, schedule, o);
  const result = await driver.run(input);
  return { ...result, steps: schedule.steps.length, seconds: { ...result.seconds, total: (performance.now() - started) / 1000 } };
}

class Driver {
  private readonly latent: number;
  private readonly latentLength: number;
  private readonly size: number;
  private readonly window: number;
  private readonly windows: number;
  /** Seconds left as estimated at `at` (performance.now()); progress reports count down from it. */
  private eta?: { seconds: number; at: number };

  constructor(
    private readonly models: DiffusionModels,
    private readonly runtime: DiffusionRuntime,
    private readonly schedule: DdimSchedule,
    private readonly o: GenerateViewsOptions & typeof GENERATE_VIEWS_DEFAULTS,
  ) {
    const { config } = models;
    this.latent = latentSize(config);
    this.latentLength = config.unet.latentChannels * this.latent * this.latent;
    this.size = config.imageSize;
    this.window = config.motion.videoLength;
    this.windows = PANOHEAD_ORBIT_FRAMES / this.window;
  }

  private progress(p: Omit<GenerateProgress, 'etaSeconds'>): void {
    const eta = this.eta ? Math.max(0, this.eta.seconds - (performance.now() - this.eta.at) / 1000) : undefined;
    this.o.onProgress?.({ ...p, etaSeconds: eta });
  }

  private noise(length: number, ...stream: number[]): Float32Array {
    return normalArray(length, mixSeed(this.o.seed, ...stream));
  }

  private context(model: ModelKind): Tensor {
    const { config } = this.models;
    return float32Tensor(this.models.contexts[model], [1, config.clip.contextLength, config.unet.contextDim]);
  }

  private latentTensor(data: Float32Array, batch: number): Tensor {
    return float32Tensor(data, [batch, this.models.config.unet.latentChannels, this.latent, this.latent]);
  }

  async run(input: GenerateViewsInput): Promise<Omit<GeneratedViews, 'steps' | 'seconds'> & { seconds: Omit<GeneratedViews['seconds'], 'total'> }> {
    const steps = this.schedule.steps.length;
    const crop = await imageToTensor(input.crop, this.size);

    // Stage 2: the back view.
    let started = performance.now();
    await this.load('back');
    this.progress({ stage: 'encode', done: 0, total: 1, message: 'encoding the portrait (back-view model)' });
    const backRef = (await this.encode('back', [crop], [STREAM.backPosterior]))[0];
    let x = this.noise(this.latentLength, STREAM.backInit);
    const backHint = this.models.hints[this.models.sampler.backHintFrame];
    const backTimes: number[] = [];
    for (let i = 0; i < steps; i++) {
      const stepStarted = performance.now();
      const timer: StepTimer = { appearance: 0, controlnet: 0, cond: 0, uncond: 0 };
      const p = this.schedule.steps[i];
      const banks = await this.banks('back', [backRef], p.timestep, timer);
      x = await this.denoise('back', x, backHint, banks, p, 1, [STREAM.backStep, i], timer);
      backTimes.push((performance.now() - stepStarted) / 1000);
      if (i === 0) this.estimate(timer, backTimes[0]);
      this.setEta(this.backEta(backTimes, steps));
      this.progress({ stage: 'back', done: i + 1, total: steps, message: `back view: step ${i + 1}/${steps} (t=${p.timestep})` });
    }
    const backDecoded = await this.decode('back', x, 1);
    const back = backDecoded[0];
    await this.runtime.release('back');
    const backSeconds = (performance.now() - started) / 1000;

    // Stage 3: the orbit. The back reference is reloaded from its 8-bit image, as the released code
    // reads Back_Head/<name> from disk.
    started = performance.now();
    this.eta = undefined;
    await this.load('orbit');
    if (this.orbitStepEstimate !== undefined) this.setEta(this.orbitStepEstimate * steps + this.decodeEstimate(this.orbitStepEstimate));
    this.progress({ stage: 'encode', done: 0, total: 1, message: 'encoding the references (360 model)' });
    const [front] = await this.encode('orbit', [crop], [STREAM.frontPosterior]);
    const [backLatent] = await this.encode('orbit', [await imageToTensor(back, this.size)], [STREAM.backRefPosterior]);
    const windows: Float32Array[] = [];
    const hints: Float32Array[] = [];
    for (let w = 0; w < this.windows; w++) {
      const frames = Array.from({ length: this.window }, (_, k) => w * this.window + k);
      hints.push(concat(frames.map((k) => this.models.hints[k])));
      const epsilon = this.noise(this.window * this.latentLength, STREAM.orbitInit, w);
      if (input.noiseFrames) {
        this.progress({ stage: 'encode', done: w, total: this.windows, message: `encoding 3D-aware noise frames, window ${w + 1}/${this.windows}` });
        const images = await Promise.all(frames.map((k) => imageToTensor(input.noiseFrames![k], this.size)));
        const z = concat(await this.encode('orbit', images, [STREAM.noisePosterior, w]));
        windows.push(noisedLatent(z, epsilon, this.schedule));
      } else {
        windows.push(epsilon);
      }
    }
    const orbitTimes: number[] = [];
    for (let i = 0; i < steps; i++) {
      const stepStarted = performance.now();
      const p = this.schedule.steps[i];
      const banks = await this.banks('orbit', [front, backLatent], p.timestep);
      for (let w = 0; w < this.windows; w++) {
        windows[w] = await this.denoise('orbit', windows[w], hints[w], banks, p, this.window, [STREAM.orbitStep, w, i]);
        this.progress({ stage: 'orbit', done: i, total: steps, window: w + 1, windows: this.windows, message: `orbit: step ${i + 1}/${steps} (t=${p.timestep}), window ${w + 1}/${this.windows}` });
      }
      orbitTimes.push((performance.now() - stepStarted) / 1000);
      this.setEta(mean(orbitTimes) * (steps - orbitTimes.length) + this.decodeEstimate(mean(orbitTimes)));
      this.progress({ stage: 'orbit', done: i + 1, total: steps, windows: this.windows, message: `orbit: step ${i + 1}/${steps} done` });
    }
    const orbitSeconds = (performance.now() - started) / 1000;

    started = performance.now();
    const frames = await this.decode('orbit', concat(windows), PANOHEAD_ORBIT_FRAMES);
    await this.runtime.release('orbit');
    return {
      frames,
      back,
      seconds: { back: backSeconds, orbit: orbitSeconds, decode: (performance.now() - started) / 1000 },
      stepSeconds: { back: mean(backTimes), orbit: mean(orbitTimes) },
      initialNoise: input.noiseFrames ? '3d-aware' : 'gaussian',
    };
  }

  /** Opens a model's graphs before its first step, so that the timed first step is a real one. */
  private async load(model: ModelKind): Promise<void> {
    if (!this.runtime.load) return;
    this.progress({ stage: 'encode', done: 0, total: 1, message: `loading the ${model === 'back' ? 'back-view' : '360'} model's graphs` });
    await this.runtime.load(model, RUNTIME_GRAPHS as GraphName[]);
  }

  /** z = 0.18215·(mean + std·ε) for each image (one VAE call per image: batch 1 keeps memory low). */
  private async encode(model: ModelKind, images: Float32Array[], stream: number[]): Promise<Float32Array[]> {
    const latents: Float32Array[] = [];
    for (const [k, image] of images.entries()) {
      const { mean: m, logvar } = await this.runtime.run(model, 'vae_encoder', { image: float32Tensor(image, [1, 3, this.size, this.size]) });
      latents.push(posteriorSample(m.data as Float32Array, logvar.data as Float32Array, this.noise(this.latentLength, ...stream, k), this.models.sampler.latentScale));
    }
    return latents;
  }

  /**
   * The appearance banks of the references at timestep t, each computed at B = 1 and, for several
   * references, concatenated along the tokens ([front ‖ back]).
   */
  private async banks(model: ModelKind, references: Float32Array[], timestep: number, timer?: StepTimer): Promise<Record<string, Tensor>> {
    const started = performance.now();
    const perReference: Record<string, Tensor>[] = [];
    for (const reference of references) {
      perReference.push(await this.runtime.run(model, 'appearance', { ref_latent: this.latentTensor(reference, 1), timestep: timestepTensor(timestep, 1), context: this.context(model) }));
    }
    const banks: Record<string, Tensor> = {};
    bankEntries(this.models.config).forEach((entry, j) => {
      const name = bankName(j);
      const parts = perReference.map((r) => r[name].data as Float32Array);
      banks[name] = float32Tensor(parts.length === 1 ? parts[0] : concat(parts), [1, references.length * entry.tokens, entry.channels]);
    });
    if (timer) timer.appearance += (performance.now() - started) / 1000;
    return banks;
  }

  /** One guided DDIM step of a batch of `batch` frames sharing one hint set. */
  private async denoise(
    model: ModelKind,
    x: Float32Array,
    hint: Float32Array,
    banks: Record<string, Tensor>,
    p: DdimStepParameters,
    batch: number,
    stream: number[],
    timer?: StepTimer,
  ): Promise<Float32Array> {
    const xt = this.latentTensor(x, batch);
    const t = timestepTensor(p.timestep, batch);
    const context = this.context(model);
    let started = performance.now();
    const residuals = await this.runtime.run(model, 'controlnet', { x: xt, hint: float32Tensor(hint, [batch, 3, this.size, this.size]), timestep: t, context });
    const lap = (key: keyof StepTimer) => {
      if (timer) timer[key] += (performance.now() - started) / 1000;
      started = performance.now();
    };
    lap('controlnet');
    const controls: Record<string, Tensor> = {};
    for (const c of controlShapes(this.models.config)) controls[c.name] = residuals[c.name];
    const { eps: epsCond } = await this.runtime.run(model, 'unet_cond', { x: xt, timestep: t, context, ...banks, ...controls });
    lap('cond');
    const { eps: epsUncond } = await this.runtime.run(model, 'unet_uncond', { x: xt, timestep: t, context });
    lap('uncond');
    const eps = guidedEpsilon(epsCond.data as Float32Array, epsUncond.data as Float32Array, this.models.sampler.guidanceScale);
    const noise = p.sigma !== 0 ? this.noise(x.length, ...stream) : undefined;
    return ddimStep(x, eps, p, noise).x;
  }

  /** VAE-decodes `count` latents (× 1 / the latent scale) in batches of `decodeBatch` into 8-bit images. */
  private async decode(model: ModelKind, latents: Float32Array, count: number): Promise<RgbaImage[]> {
    const images: RgbaImage[] = [];
    // decode_first_stage computes (1 / scale_factor) · z: the reciprocal in float64, rounded to float32.
    const inverse = Math.fround(1 / this.models.sampler.latentScale);
    const batchSize = Math.max(1, Math.floor(this.o.decodeBatch));
    const imageLength = 3 * this.size * this.size;
    const started = performance.now();
    for (let start = 0; start < count; start += batchSize) {
      const n = Math.min(batchSize, count - start);
      const slice = latents.subarray(start * this.latentLength, (start + n) * this.latentLength);
      const scaled = new Float32Array(slice.length);
      for (let i = 0; i < slice.length; i++) scaled[i] = inverse * slice[i];
      const { image } = await this.runtime.run(model, 'vae_decoder', { latent: this.latentTensor(scaled, n) });
      for (let k = 0; k < n; k++) images.push(tensorToImage(image.data as Float32Array, this.size, k * imageLength));
      if (model === 'orbit') this.setEta(((performance.now() - started) / 1000 / (start + n)) * (count - start - n));
      this.progress({ stage: 'decode', done: start + n, total: count, message: `decoding ${model === 'back' ? 'the back view' : `frame ${start + n}/${count}`}` });
    }
    return images;
  }

  private setEta(seconds: number): void {
    this.eta = { seconds, at: performance.now() };
  }

  /** Decoding 32 frames: about one UNet pass per frame, and an orbit step runs about three per frame. */
  private decodeEstimate(orbitStep: number): number {
    return orbitStep / 3;
  }

  private orbitStepEstimate: number | undefined;

  /**
   * After the first back-view step (graphs already loaded): extrapolates the whole run. An orbit
   * step runs the appearance net twice, and ControlNet and both UNets once per frame; the orbit
   * UNets carry motion modules (≈ +50% parameters).
   */
  private estimate(timer: StepTimer, firstStep: number): void {
    const steps = this.schedule.steps.length;
    const frames = PANOHEAD_ORBIT_FRAMES;
    this.orbitStepEstimate = 2 * timer.appearance + frames * (timer.controlnet + 1.5 * (timer.cond + timer.uncond));
    const total = firstStep * steps + this.orbitStepEstimate * steps + this.decodeEstimate(this.orbitStepEstimate);
    this.o.onNote?.(
      `diffportrait360 on ${this.runtime.provider}: ${formatSeconds(firstStep)} per back-view step; estimated ${formatSeconds(total)} in all ` +
        `(${steps} steps, back view + ${frames} frames at ${this.size}²)`,
    );
  }

  private backEta(backTimes: number[], steps: number): number {
    const orbitStep = this.orbitStepEstimate ?? mean(backTimes) * PANOHEAD_ORBIT_FRAMES;
    return mean(backTimes) * (steps - backTimes.length) + orbitStep * steps + this.decodeEstimate(orbitStep);
  }
}

function mean(values: number[]): number {
  return values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
}

function formatSeconds(s: number): string {
  if (s < 90) return `${s.toFixed(1)} s`;
  if (s < 5400) return `${(s / 60).toFixed(1)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

export function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
