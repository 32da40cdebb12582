import { dirname, extname, isAbsolute, join, relative, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import sharp from 'sharp';
import { type Camera, type Intrinsics, opencvToOpengl, openglToOpencv } from './camera.js';
import { FieldReader, readJsonFile } from './json-file.js';
import { Head3dError } from './errors.js';
import { writeFileAtomic } from './atomic.js';

/** One view: a camera and the image it sees. `filePath` is as written in the file (relative to `baseDir`). */
export interface ViewFrame {
  camera: Camera;
  filePath: string;
}

/** A set of views with known cameras: what nerfstudio and instant-ngp call a transforms.json. */
export interface ViewSet {
  /** Directory that frame paths are relative to. */
  baseDir: string;
  frames: ViewFrame[];
}

/** Absolute path of a frame's image; instant-ngp style paths without an extension get `.png`. */
export function frameImagePath(viewSet: ViewSet, frame: ViewFrame): string {
  return resolveFramePath(viewSet.baseDir, frame.filePath);
}

function resolveFramePath(baseDir: string, filePath: string): string {
  const path = isAbsolute(filePath) ? filePath : join(baseDir, filePath);
  if (extname(path) === '' && !existsSync(path) && existsSync(`${path}.png`)) return `${path}.png`;
  return path;
}

/**
 * Reads a transforms.json in either dialect: nerfstudio (`fl_x fl_y cx cy w h`, top level or per
 * frame) or instant-ngp/Blender (`camera_angle_x`, optional `camera_angle_y`; width and height from
 * the first image when the file omits them). Cameras come back in OpenCV axes.
 */
export async function readTransformsJson(path: string): Promise<ViewSet> {
  const json = await readJsonFile(path, 'transforms.json');
  const fields = new FieldReader(path);
  const root = fields.object(json, '(top level)');
  const framesJson = fields.array(root.frames, 'frames');
  if (framesJson.length === 0) fields.fail('frames', 'must list at least one frame');
  const baseDir = dirname(resolve(path));

  const frames: ViewFrame[] = [];
  for (let i = 0; i < framesJson.length; i++) {
    const name = `frames[${i}]`;
    const frameJson = fields.object(framesJson[i], name);
    const filePath = fields.string(frameJson.file_path, `${name}.file_path`);
    const cam2worldGl = fields.matrix4(frameJson.transform_matrix, `${name}.transform_matrix`);
    const intrinsics = await readIntrinsics(fields, root, frameJson, name, () =>
      imageSize(resolveFramePath(baseDir, filePath)),
    );
    frames.push({ filePath, camera: { intrinsics, cam2world: openglToOpencv(cam2worldGl) } });
  }
  return { baseDir, frames };
}

async function readIntrinsics(
  fields: FieldReader,
  root: Record<string, unknown>,
  frame: Record<string, unknown>,
  name: string,
  sizeFromImage: () => Promise<{ width: number; height: number }>,
): Promise<Intrinsics> {
  const pick = (key: string): { value: unknown; field: string } =>
    frame[key] !== undefined ? { value: frame[key], field: `${name}.${key}` } : { value: root[key], field: key };
  const num = (key: string): number | undefined => {
    const { value, field } = pick(key);
    return fields.optionalNumber(value, field, { positive: key !== 'cx' && key !== 'cy' });
  };

  let width = num('w');
  let height = num('h');
  if (width === undefined || height === undefined) {
    const size = await sizeFromImage();
    width ??= size.width;
    height ??= size.height;
  }
  let fx = num('fl_x');
  let fy = num('fl_y');
  const angleX = num('camera_angle_x');
  const angleY = num('camera_angle_y');
  if (fx === undefined && angleX !== undefined) fx = (0.5 * width) / Math.tan(angleX / 2);
  if (fy === undefined && angleY !== undefined) fy = (0.5 * height) / Math.tan(angleY / 2);
  fx ??= fy;
  fy ??= fx;
  if (fx === undefined || fy === undefined) {
    fields.fail(`${name}`, 'has no focal length: give fl_x/fl_y or camera_angle_x at the top level or in the frame');
  }
  const cx = num('cx') ?? width / 2;
  const cy = num('cy') ?? height / 2;
  return { fx, fy, cx, cy, width, height };
}

async function imageSize(path: string): Promise<{ width: number; height: number }> {
  try {
    const meta = await sharp(path).metadata();
    if (!meta.width || !meta.height) throw new Error('no size');
    const swap = (meta.orientation ?? 1) >= 5;
    return swap ? { width: meta.height, height: meta.width } : { width: meta.width, height: meta.height };
  } catch {
    throw new Head3dError(`cannot read the image size of ${path}, and the transforms.json gives no w/h`, {
      hint: 'add "w" and "h" to the transforms.json or make the image readable',
    });
  }
}

/** Serialises a view set as nerfstudio writes it, plus `camera_angle_x` so instant-ngp reads it too. */
export function transformsJsonText(viewSet: ViewSet, outputPath: string, extra: Record<string, unknown> = {}): string {
  const outDir = dirname(resolve(outputPath));
  const first = viewSet.frames[0]?.camera.intrinsics;
  if (!first) throw new Error('transformsJsonText: empty view set');
  const shared = viewSet.frames.every((f) => sameIntrinsics(f.camera.intrinsics, first));
  const intrinsicsJson = (k: Intrinsics) => ({
    fl_x: k.fx, fl_y: k.fy, cx: k.cx, cy: k.cy, w: k.width, h: k.height,
  });
  const root: Record<string, unknown> = { camera_model: 'OPENCV' };
  if (shared) {
    Object.assign(root, intrinsicsJson(first), {
      camera_angle_x: 2 * Math.atan(first.width / (2 * first.fx)),
      camera_angle_y: 2 * Math.atan(first.height / (2 * first.fy)),
    });
  }
  Object.assign(root, extra);
  root.frames = viewSet.frames.map((frame) => {
    const absolute = isAbsolute(frame.filePath) ? frame.filePath : join(viewSet.baseDir, frame.filePath);
    const filePath = relative(outDir, absolute).split('\\').join('/');
    const gl = opencvToOpengl(frame.camera.cam2world);
    const rows = [0, 1, 2, 3].map((r) => gl.slice(r * 4, r * 4 + 4));
    return { file_path: filePath, transform_matrix: rows, ...(shared ? {} : intrinsicsJson(frame.camera.intrinsics)) };
  });
  return `${JSON.stringify(root, null, 2)}\n`;
}

export async function writeTransformsJson(path: string, viewSet: ViewSet, extra: Record<string, unknown> = {}): Promise<void> {
  await writeFileAtomic(path, transformsJsonText(viewSet, path, extra));
}

function sameIntrinsics(a: Intrinsics, b: Intrinsics): boolean {
  return a.fx === b.fx && a.fy === b.fy && a.cx === b.cx && a.cy === b.cy && a.width === b.width && a.height === b.height;
}
