/**
 * Writes generated views as the view set the fit reads: frame_000.png … frame_031.png (RGBA; alpha
 * keyed from the plain background as the import generator does for the reference's videos, or from
 * a matting model where the background is busy), transforms.json on PanoHead's orbit, and back.png
 * (the stage-2 back view, as generated).
 */
import { existsSync, statSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { temporaryName } from '../../core/atomic.js';
import { panoheadOrbit } from '../../core/camera.js';
import { Head3dError } from '../../core/errors.js';
import { type RgbaImage, writePng } from '../../core/image.js';
import { type ViewFrame, writeTransformsJson } from '../../core/transforms-json.js';
import { backgroundMatte } from '../import/background-matte.js';

export interface WriteViewsOptions {
  /** Extra top-level fields for transforms.json (under `head3d`). */
  metadata?: Record<string, unknown>;
  /** Key the alpha from the plain background (default true); false keeps the frames opaque. */
  matte?: boolean;
  /**
   * Foreground alpha (0–255 per pixel) for frames whose background is not one plain colour, e.g.
   * the preprocess stage's matting model (injected: it is heavy). Without it such frames stay opaque.
   */
  matteModel?: (image: RgbaImage) => Promise<Uint8Array>;
  onProgress?: (done: number, total: number) => void;
}

export interface WrittenViews {
  transformsPath: string;
  backPath: string;
  views: number;
  /** Frames whose alpha was keyed from a plain background, matted by the model, and left opaque. */
  matted: number;
  modelMatted: number;
  opaque: number;
}

export const frameFileName = (k: number): string => `frame_${String(k).padStart(3, '0')}.png`;

/**
 * Writes the view set into `outDir` atomically: everything goes to a temporary sibling folder that
 * replaces `outDir` once complete, so `outDir` never holds a half-written set.
 *
 * @example
 * await writeGeneratedViews(views.frames, views.back, 'head.work/views');
 */
export async function writeGeneratedViews(frames: RgbaImage[], back: RgbaImage, outDirArg: string, options: WriteViewsOptions = {}): Promise<WrittenViews> {
  const outDir = resolve(outDirArg);
  if (existsSync(outDir) && !statSync(outDir).isDirectory()) throw new Head3dError(`the output ${outDirArg} is a file, not a folder`, { hint: 'pass a folder for the views' });
  await mkdir(dirname(outDir), { recursive: true });
  const staging = temporaryName(outDir);
  const size = frames[0].width;
  const cameras = panoheadOrbit({ frames: frames.length, size });
  let matted = 0;
  let modelMatted = 0;
  let opaque = 0;
  try {
    await mkdir(staging, { recursive: true });
    const viewFrames: ViewFrame[] = [];
    for (const [k, frame] of frames.entries()) {
      let image = frame;
      if (options.matte ?? true) {
        const keyed = backgroundMatte(frame);
        image = keyed.image;
        if (keyed.keyed) {
          matted++;
        } else if (options.matteModel) {
          const alpha = await options.matteModel(frame);
          image = { width: frame.width, height: frame.height, data: new Uint8Array(frame.data) };
          for (let p = 0; p < alpha.length; p++) image.data[p * 4 + 3] = alpha[p];
          modelMatted++;
        } else {
          opaque++;
        }
      } else {
        opaque++;
      }
      await writePng(join(staging, frameFileName(k)), image);
      viewFrames.push({ camera: cameras[k], filePath: frameFileName(k) });
      options.onProgress?.(k + 1, frames.length);
    }
    await writePng(join(staging, 'back.png'), back);
    await writeTransformsJson(join(staging, 'transforms.json'), { baseDir: staging, frames: viewFrames }, options.metadata ?? {});
    await replaceDirectory(staging, outDir);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
  return { transformsPath: join(outDir, 'transforms.json'), backPath: join(outDir, 'back.png'), views: frames.length, matted, modelMatted, opaque };
}

/** Moves `staging` to `target`, the old `target` (if any) aside first and removed after. */
async function replaceDirectory(staging: string, target: string): Promise<void> {
  if (!existsSync(target)) {
    await rename(staging, target);
    return;
  }
  const old = join(dirname(target), `.${basename(target)}.old-${process.pid}-${Date.now()}`);
  await rename(target, old);
  try {
    await rename(staging, target);
  } catch (error) {
    await rename(old, target);
    throw error;
  }
  await rm(old, { recursive: true, force: true });
}
