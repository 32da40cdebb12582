import { existsSync, readdirSync, statSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import sharp from 'sharp';
import { PANOHEAD_ORBIT_FRAMES, panoheadOrbit } from '../../core/camera.js';
import { Head3dError } from '../../core/errors.js';
import { type ViewSet, readTransformsJson, writeTransformsJson } from '../../core/transforms-json.js';

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.webp', '.tif', '.tiff']);

/**
 * Reads views made elsewhere: a transforms.json (or a folder holding one), or a folder of exactly
 * 32 images taken in name order as PanoHead's orbit (frame 0 frontal, 11.25° steps toward the
 * subject's left, as DiffPortrait360 writes them).
 */
export async function readImportedViews(source: string): Promise<{ viewSet: ViewSet; kind: 'transforms' | 'orbit-frames'; files: string[] }> {
  const path = resolve(source);
  if (!existsSync(path)) throw new Head3dError(`views not found: ${source}`, { hint: 'pass a transforms.json or a folder of 32 orbit frames' });
  if (statSync(path).isFile()) {
    if (extname(path).toLowerCase() !== '.json') {
      throw new Head3dError(`--views takes a transforms.json or a folder of frames, not ${source}`, { hint: 'videos are not supported yet: extract the 32 frames into a folder' });
    }
    const viewSet = await readTransformsJson(path);
    return { viewSet, kind: 'transforms', files: [path, ...viewSet.frames.map((f) => resolve(viewSet.baseDir, f.filePath))] };
  }
  const transforms = join(path, 'transforms.json');
  if (existsSync(transforms)) return readImportedViews(transforms);
  const images = readdirSync(path).filter((name) => IMAGE_EXTENSIONS.has(extname(name).toLowerCase())).sort();
  if (images.length !== PANOHEAD_ORBIT_FRAMES) {
    throw new Head3dError(`${source} holds ${images.length} images; a PanoHead orbit has ${PANOHEAD_ORBIT_FRAMES}`, {
      hint: 'give exactly 32 frames (frame 0 frontal) or a transforms.json with the cameras',
    });
  }
  const meta = await sharp(join(path, images[0])).metadata();
  if (!meta.width || meta.width !== meta.height) {
    throw new Head3dError(`${images[0]} is not square (${meta.width}×${meta.height})`, { hint: 'PanoHead orbit frames are square' });
  }
  const cameras = panoheadOrbit({ size: meta.width });
  return {
    viewSet: { baseDir: path, frames: images.map((name, k) => ({ filePath: name, camera: cameras[k] })) },
    kind: 'orbit-frames',
    files: images.map((name) => join(path, name)),
  };
}

/** The import generator: writes `<outDir>/transforms.json` pointing at the imported images (nothing is copied). */
export async function importViews(source: string, outDir: string): Promise<{ transformsPath: string; views: number; kind: string }> {
  const { viewSet, kind } = await readImportedViews(source);
  const absolute: ViewSet = { baseDir: viewSet.baseDir, frames: viewSet.frames.map((f) => ({ ...f, filePath: resolve(viewSet.baseDir, f.filePath) })) };
  const transformsPath = join(outDir, 'transforms.json');
  await writeTransformsJson(transformsPath, absolute, { head3d: { generator: 'import', source: resolve(source) } });
  return { transformsPath, views: viewSet.frames.length, kind };
}
