/**
 * The diffportrait360 view generator end to end: bundle → runtime → driver → view set on disk.
 * What `head3d generate` and the build's generate stage call.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { PANOHEAD_ORBIT_FRAMES } from '../../core/camera.js';
import { Head3dError } from '../../core/errors.js';
import { type RgbaImage, readImage } from '../../core/image.js';
import type { FaceModels } from '../preprocess/face-models.js';
import { loadBundle } from './bundle.js';
import { type GenerateProgress, type GeneratedViews, generateViews, loadDiffusionModels } from './generate-views.js';
import { type ProviderChoice, createOnnxRuntime } from './runtime/onnx-runtime.js';
import { ddimTimesteps } from './sampler/schedule.js';
import { type WrittenViews, writeGeneratedViews } from './write-views.js';

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.webp', '.tif', '.tiff']);

export interface DiffPortrait360Options {
  /** The model bundle folder (made by head3d models convert). */
  models: string;
  seed?: number;
  /** DDIM steps (default: the bundle's, 50). */
  steps?: number;
  /** onnxruntime intra-op threads (default: all cores). */
  threads?: number;
  provider?: ProviderChoice;
  /** A folder of 32 orbit frames (name order, frame 0 frontal) for the 3D-aware initial noise. */
  noiseFrames?: string;
  /** Check every bundle file's sha256, GB-sized graphs included (default: files under 64 MB only). */
  verify?: boolean;
  /**
   * Alpha for frames on a busy background: 'model' (default) runs the preprocess stage's matting
   * model (selfie segmentation, colour-refined) on them, 'key' leaves them opaque; plain backgrounds are always keyed.
   */
  matte?: 'model' | 'key';
  onProgress?: (progress: GenerateProgress) => void;
  onNote?: (line: string) => void;
}

export interface DiffPortrait360Result extends WrittenViews {
  provider: string;
  steps: number;
  seconds: GeneratedViews['seconds'];
  stepSeconds: GeneratedViews['stepSeconds'];
  initialNoise: GeneratedViews['initialNoise'];
}

/** `<workdir>` → `<workdir>/crop.png`; an image file is taken as the crop itself. */
export function resolveCropPath(source: string): string {
  const path = resolve(source);
  if (!existsSync(path)) throw new Head3dError(`not found: ${source}`, { hint: 'pass a work directory (with crop.png) or a crop made by head3d preprocess' });
  if (statSync(path).isDirectory()) {
    const crop = join(path, 'crop.png');
    if (!existsSync(crop)) throw new Head3dError(`${source} holds no crop.png`, { hint: `run head3d preprocess <portrait> -o ${source} first` });
    return crop;
  }
  return path;
}

/** The 32 images of a folder in name order. */
export async function readNoiseFrames(dir: string): Promise<RgbaImage[]> {
  const path = resolve(dir);
  if (!existsSync(path) || !statSync(path).isDirectory()) throw new Head3dError(`--noise-frames must be a folder of ${PANOHEAD_ORBIT_FRAMES} images: ${dir}`);
  const names = readdirSync(path).filter((n) => IMAGE_EXTENSIONS.has(extname(n).toLowerCase())).sort();
  if (names.length !== PANOHEAD_ORBIT_FRAMES) {
    throw new Head3dError(`--noise-frames ${dir} holds ${names.length} images, expected ${PANOHEAD_ORBIT_FRAMES}`, { hint: 'the PanoHead renders of the orbit, frame 0 frontal, in name order' });
  }
  return Promise.all(names.map((n) => readImage(join(path, n), 'noise frame')));
}

/**
 * Generates the 32-view orbit and the back view of a preprocessed portrait with a DiffPortrait360
 * bundle and writes them to `outDir` (transforms.json, frame_000.png …, back.png).
 *
 * @example
 * await generateDiffPortrait360('head.work/crop.png', 'head.work/views', { models: 'models/dp360' });
 */
export async function generateDiffPortrait360(cropPath: string, outDir: string, options: DiffPortrait360Options): Promise<DiffPortrait360Result> {
  const bundle = await loadBundle(options.models, {
    verify: options.verify ? 'all' : 'small',
    onHash: options.verify ? (file) => options.onProgress?.({ stage: 'encode', done: 0, total: 1, message: `checking ${file}` }) : undefined,
  });
  ddimTimesteps(options.steps ?? bundle.manifest.sampler.steps, bundle.manifest.sampler.trainTimesteps); // refuse bad --steps now
  const crop = await readImage(cropPath, 'crop');
  const noiseFrames = options.noiseFrames ? await readNoiseFrames(options.noiseFrames) : undefined;
  const runtime = await createOnnxRuntime(bundle, { provider: options.provider, threads: options.threads, onNote: options.onNote });
  try {
    const models = await loadDiffusionModels(bundle);
    const views = await generateViews(models, runtime, { crop, noiseFrames }, { seed: options.seed, steps: options.steps, onProgress: options.onProgress, onNote: options.onNote });
    const metadata = {
      head3d: {
        generator: 'diffportrait360',
        world: 'panohead',
        bundle: { source: bundle.manifest.source.kind, config: bundle.manifest.config.name, precision: bundle.manifest.precision },
        seed: options.seed ?? 42,
        steps: views.steps,
        initialNoise: views.initialNoise,
        back: 'back.png',
      },
    };
    await runtime.release();
    const matting = new LazyMatte(options.matte ?? 'model', (line) => options.onProgress?.({ stage: 'write', done: 0, total: 1, message: line }));
    try {
      const written = await writeGeneratedViews(views.frames, views.back, outDir, {
        metadata,
        matteModel: matting.model(),
        onProgress: (done, total) => options.onProgress?.({ stage: 'write', done, total, message: `matting and writing view ${done}/${total}` }),
      });
      return { ...written, provider: runtime.provider, steps: views.steps, seconds: views.seconds, stepSeconds: views.stepSeconds, initialNoise: views.initialNoise };
    } finally {
      matting.dispose();
    }
  } finally {
    await runtime.release();
  }
}

/** The preprocess stage's matting model, loaded only when a frame needs it. */
class LazyMatte {
  private models?: Promise<FaceModels>;
  constructor(private readonly mode: 'model' | 'key', private readonly onNote: (line: string) => void) {}

  model(): ((image: RgbaImage) => Promise<Uint8Array>) | undefined {
    if (this.mode !== 'model') return undefined;
    return async (image) => {
      if (!this.models) {
        this.onNote('loading the matting model for frames on a busy background');
        this.models = import('../preprocess/face-models.js').then((m) => m.loadFaceModels());
      }
      return (await this.models).matte(image);
    };
  }

  dispose(): void {
    void this.models?.then((m) => m.dispose());
  }
}
