import { existsSync, readdirSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import sharp from 'sharp';
import { PANOHEAD_ORBIT_FRAMES, panoheadOrbit } from '../../core/camera.js';
import { Head3dError } from '../../core/errors.js';
import { readImage, writePng } from '../../core/image.js';
import { type ViewSet, readTransformsJson, writeTransformsJson } from '../../core/transforms-json.js';
import { backgroundMatte } from './background-matte.js';
import { VIDEO_EXTENSIONS, decodeVideoFrames } from './decode-video.js';

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.webp', '.tif', '.tiff']);

/** What `--views` points at. */
export type ImportKind = 'transforms' | 'orbit-frames' | 'video';

export interface ImportSource {
  kind: ImportKind;
  /** The transforms.json, the frame folder or the video, resolved. */
  path: string;
  /** Every file the import reads: what the generate stage's key hashes. */
  files: string[];
}

export interface ImportOptions {
  /** The ffmpeg executable for videos (default: HEAD3D_FFMPEG, else `ffmpeg` on the PATH). */
  ffmpeg?: string;
  onProgress?: (message: string) => void;
}

export interface ImportResult {
  transformsPath: string;
  views: number;
  kind: ImportKind;
  /** Frames whose alpha was recovered from a plain background (videos and frames without alpha). */
  matted: number;
  /** Frames that had no alpha and no plain background, used opaque. */
  opaque: number;
}

/**
 * Says what `--views` is and which files it reads, without importing: a transforms.json (or a
 * folder holding one), a folder of exactly 32 images taken in name order as PanoHead's orbit
 * (frame 0 frontal, 11.25° steps toward the subject's left, as DiffPortrait360 writes them), or a
 * video of that orbit (the reference implementation's result mp4).
 */
export async function describeImport(source: string): Promise<ImportSource> {
  const path = resolve(source);
  if (!existsSync(path)) throw new Head3dError(`views not found: ${source}`, { hint: 'pass a transforms.json, a folder of 32 orbit frames or a video of the orbit' });
  if (statSync(path).isFile()) {
    const extension = extname(path).toLowerCase();
    if (VIDEO_EXTENSIONS.has(extension)) return { kind: 'video', path, files: [path] };
    if (extension !== '.json') {
      throw new Head3dError(`--views takes a transforms.json, a folder of frames or a video, not ${source}`, { hint: `videos: ${[...VIDEO_EXTENSIONS].join(' ')}` });
    }
    const viewSet = await readTransformsJson(path);
    return { kind: 'transforms', path, files: [path, ...viewSet.frames.map((f) => resolve(viewSet.baseDir, f.filePath))] };
  }
  const transforms = join(path, 'transforms.json');
  if (existsSync(transforms)) return describeImport(transforms);
  const images = readdirSync(path).filter((name) => IMAGE_EXTENSIONS.has(extname(name).toLowerCase())).sort();
  checkFrameCount(images.length, source);
  return { kind: 'orbit-frames', path, files: images.map((name) => join(path, name)) };
}

/**
 * The import generator: writes `<outDir>/transforms.json` for the views. A transforms.json or a
 * folder of RGBA frames is pointed at where it lies (nothing is copied); a video is decoded with
 * ffmpeg into `<outDir>/frames/`, and frames without alpha get a matte keyed from their plain
 * background, since the fit learns the head's silhouette from alpha.
 *
 * @example
 * await importViews('result.mp4', 'head.work/views'); // → head.work/views/transforms.json
 */
export async function importViews(source: string, outDir: string, options: ImportOptions = {}): Promise<ImportResult> {
  const described = await describeImport(source);
  const transformsPath = join(outDir, 'transforms.json');
  const metadata = { head3d: { generator: 'import', kind: described.kind, source: described.path } };
  if (described.kind === 'transforms') {
    const viewSet = await readTransformsJson(described.path);
    const absolute: ViewSet = { baseDir: viewSet.baseDir, frames: viewSet.frames.map((f) => ({ ...f, filePath: resolve(viewSet.baseDir, f.filePath) })) };
    await writeTransformsJson(transformsPath, absolute, metadata);
    return { transformsPath, views: viewSet.frames.length, kind: described.kind, matted: 0, opaque: 0 };
  }
  let frames = described.files;
  const framesDir = join(outDir, 'frames');
  await rm(framesDir, { recursive: true, force: true });
  if (described.kind === 'video') {
    options.onProgress?.(`decoding ${source} with ffmpeg`);
    frames = (await decodeVideoFrames(described.path, framesDir, { ffmpeg: options.ffmpeg })).map((name) => join(framesDir, name));
    checkFrameCount(frames.length, source);
  }
  const size = await squareSize(frames[0]);
  let matted = 0;
  let opaque = 0;
  if (described.kind === 'video' || !(await sharp(frames[0]).metadata()).hasAlpha) {
    const keyed: string[] = [];
    for (const [k, file] of frames.entries()) {
      options.onProgress?.(`matting frame ${k + 1}/${frames.length}`);
      const result = backgroundMatte(await readImage(file, 'view frame'));
      const target = join(framesDir, `frame_${String(k).padStart(3, '0')}.png`);
      await writePng(target, result.image);
      keyed.push(target);
      if (result.keyed) matted++;
      else opaque++;
    }
    frames = keyed;
  }
  const cameras = panoheadOrbit({ size });
  await writeTransformsJson(transformsPath, { baseDir: outDir, frames: frames.map((file, k) => ({ filePath: file, camera: cameras[k] })) }, metadata);
  return { transformsPath, views: frames.length, kind: described.kind, matted, opaque };
}

function checkFrameCount(count: number, source: string): void {
  if (count !== PANOHEAD_ORBIT_FRAMES) {
    throw new Head3dError(`${source} holds ${count} frames; a PanoHead orbit has ${PANOHEAD_ORBIT_FRAMES}`, {
      hint: 'give exactly 32 frames (frame 0 frontal) or a transforms.json with the cameras',
    });
  }
}

async function squareSize(file: string): Promise<number> {
  const meta = await sharp(file).metadata();
  if (!meta.width || meta.width !== meta.height) {
    throw new Head3dError(`${file} is not square (${meta.width}×${meta.height})`, { hint: 'PanoHead orbit frames are square' });
  }
  return meta.width;
}
