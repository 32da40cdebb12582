import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import sharp from 'sharp';
import { type Camera, PANOHEAD_FOCAL, normalisedIntrinsics } from '../../core/camera.js';
import { labelFromCamera, writeDatasetJson } from '../../core/dataset-json.js';
import { Head3dError, fileError } from '../../core/errors.js';
import { MAX_INPUT_PIXELS, type RgbaImage, type ScalableImage, decodeImage, fitWithin, resizeImage, scalableImage, scalableImageFromBytes, writePng } from '../../core/image.js';
import { writeTransformsJson } from '../../core/transforms-json.js';
import type { DetectedFace, FaceModels } from './face-models.js';
import { type CameraAngles, type HeadPose, cameraAngles, cameraFromPose, estimateHeadPose, rollCamera } from './head-pose.js';
import { type CropSquare, cropCorners, cropToSource, panoheadCrop, sourceToCrop, warpCrop } from './crop.js';
import { MIN_FACE_COVERAGE, faceCoverage, faceOutline, headPriorMatte } from './head-prior-matte.js';
import { FACE_POINT_COUNT, type Point2 } from './landmarks.js';
import { drawPoints, drawPolygon } from './overlay.js';

export interface PreprocessOptions {
  /** Side of crop.png in pixels (default 512, what DiffPortrait360 takes). */
  size?: number;
  /** Smallest face accepted, as the face box side in source pixels (default 64). */
  minFacePixels?: number;
  /** Largest |yaw| of the camera in degrees (default 60; the landmark model is unreliable beyond). */
  maxYawDeg?: number;
  /** Largest |pitch| of the camera in degrees (default 40). */
  maxPitchDeg?: number;
  /** Longest image side the face detector sees (default 1280); larger inputs are scaled down for it. */
  detectionSize?: number;
  /** Called with a short description of each step. */
  onProgress?: (step: string) => void;
}

export const PREPROCESS_DEFAULTS: Required<Omit<PreprocessOptions, 'onProgress'>> = {
  size: 512,
  minFacePixels: 64,
  maxYawDeg: 60,
  maxPitchDeg: 40,
  detectionSize: 1280,
};

export type MatteSource = 'segmentation' | 'head-shape';

/** What preprocessing found and made. */
export interface PreprocessResult {
  /** The crop (RGBA; alpha is the foreground matte). */
  crop: RgbaImage;
  /** PanoHead camera of the crop (OpenCV cam2world on the 2.7 sphere, focal 4.2647). */
  camera: Camera;
  /** The camera's yaw, pitch and roll on the sphere (see `CameraAngles` for the signs). */
  angles: CameraAngles;
  /** Faces the detector found; the chosen one is `face` (see `chooseFace`). */
  facesFound: number;
  /**
   * Things a person should check; the crop was made. The face is small in the picture (its side
   * under 12 % of the image's longer side), where a subject's face may have gone unseen and a
   * smaller one (a picture in the picture, a bystander) been taken instead; or the segmentation
   * model missed the person and the matte comes from the head-shape fallback.
   */
  warnings: string[];
  face: DetectedFace;
  pose: HeadPose;
  /** The crop square in source pixels (after expansion to PanoHead's 563 layout). */
  cropSquare: CropSquare;
  /** Fraction of the crop that lay outside the source image (filled by mirror + blur). */
  outsideFraction: number;
  /** What made the crop's alpha: the segmentation model, or the head-shape fallback where the model missed the face. */
  matteSource: MatteSource;
  /** Mean of the segmentation model's alpha (0–1) inside the face outline; under MIN_FACE_COVERAGE the fallback is used. */
  faceCoverage: number;
  /** The source with the landmarks, the re-centred FFHQ quad (green) and the crop (red) drawn on it. */
  overlay: RgbaImage;
}

/**
 * Turns a portrait into DiffPortrait360's input: finds the face (the largest, or among faces
 * nearly as large the one nearest the centre), fits the head pose, cuts PanoHead's 563-layout crop at `size`², mattes it and
 * derives the PanoHead camera. Throws a Head3dError for no face, a face too small or a pose beyond
 * the limits.
 *
 * @example
 * const models = await loadFaceModels();
 * const result = await preprocessImage(await readImage('portrait.jpg'), models);
 */
export async function preprocessImage(picture: RgbaImage | ScalableImage, models: FaceModels, options: PreprocessOptions = {}): Promise<PreprocessResult> {
  const settings = { ...PREPROCESS_DEFAULTS, ...options };
  const progress = options.onProgress ?? (() => {});
  const source = 'data' in picture ? scalableImage(picture) : picture;
  const { width: sourceWidth, height: sourceHeight } = source;

  progress('detecting faces');
  const detectionImage = flattenOnGrey(await source.atMost(settings.detectionSize));
  // Mirror-averaged here too, although only the second pass gives the pose: without it the upright
  // view of a strongly turned face (Vermeer's girl, yaw 44°) is framed differently and its eye line
  // in the crop misses level by over 3°.
  const faces = (await models.detectFaces(detectionImage)).map((face) => scaleFace(face, sourceWidth / detectionImage.width));
  if (faces.length === 0) {
    throw new Head3dError('no face found in the image', { hint: 'use a photo in which one face is clearly visible, lit and not covered' });
  }
  const firstFace = chooseFace(faces, sourceWidth, sourceHeight);
  const faceSide = Math.max(firstFace.box[2], firstFace.box[3]);
  if (faceSide < settings.minFacePixels) {
    throw new Head3dError(`the face is too small (${Math.round(faceSide)} px; at least ${settings.minFacePixels} px needed)`, {
      hint: 'use a photo in which the face is larger (256 px or more across works best)',
    });
  }

  progress('fitting head pose');
  const first = panoheadCrop(firstFace.landmarks, estimateHeadPose(firstFace.landmarks));
  // The source at a scale where the crop spans about two output widths (never enlarged), then
  // resampled with 2×2 samples per pixel. The detector's view serves when it already gives the
  // crop 1.5–2.5 output widths: a second decode of a large photo costs more than the sharpness it adds.
  const cropInDetection = (first.crop.side * detectionImage.width) / sourceWidth;
  let sampled: RgbaImage;
  if (cropInDetection >= 1.5 * settings.size && cropInDetection <= 2.5 * settings.size) {
    sampled = detectionImage;
  } else if (cropInDetection > 2.5 * settings.size) {
    const size = fitWithin(detectionImage.width, detectionImage.height, Math.round((Math.max(detectionImage.width, detectionImage.height) * 2 * settings.size) / cropInDetection));
    sampled = await resizeImage(detectionImage, size.width, size.height);
  } else {
    const sourceScale = Math.min(1, (2 * settings.size) / first.crop.side);
    sampled = flattenOnGrey(await source.atMost(Math.round(Math.max(sourceWidth, sourceHeight) * sourceScale)));
  }
  const toSampled = (square: CropSquare): CropSquare => ({
    ...square,
    centre: [square.centre[0] * sampled.width / sourceWidth, square.centre[1] * sampled.height / sourceHeight],
    side: square.side * sampled.width / sourceWidth,
  });

  // Second pass, as PanoHead fits its 3DMM on the aligned crop: landmarks found again in an
  // upright view around the first crop, where a small or tilted face is large and level.
  progress('refining landmarks');
  const face = (await refineFace(sampled, toSampled(first.crop), models, settings.size, sourceWidth / sampled.width)) ?? firstFace;
  const pose = estimateHeadPose(face.landmarks);
  const { crop: cropSquare, quad } = panoheadCrop(face.landmarks, pose);
  const rollAngle = Math.atan2(cropSquare.xAxis[1], cropSquare.xAxis[0]);
  const cam2world = cameraFromPose(rollCamera(pose.rotation, rollAngle));
  const angles = cameraAngles(cam2world);
  if (Math.abs(angles.yawDeg) > settings.maxYawDeg || Math.abs(angles.pitchDeg) > settings.maxPitchDeg) {
    throw new Head3dError(
      `the head is turned too far (yaw ${angles.yawDeg.toFixed(0)}°, pitch ${angles.pitchDeg.toFixed(0)}°; limits ±${settings.maxYawDeg}° and ±${settings.maxPitchDeg}°)`,
      { hint: 'use a photo in which the face looks roughly toward the camera' },
    );
  }

  progress('cropping');
  const { image: crop, outsideFraction } = warpCrop(sampled, toSampled(cropSquare), settings.size);

  progress('matting');
  const opaqueCrop = opaque(crop);
  let matte = await models.matte(opaqueCrop);
  const cropLandmarks = face.landmarks.map(([x, y]) => sourceToCrop(cropSquare, [x, y], settings.size));
  const coverage = faceCoverage(matte, faceOutline(cropLandmarks), settings.size, settings.size);
  const matteSource: MatteSource = coverage >= MIN_FACE_COVERAGE ? 'segmentation' : 'head-shape';
  if (matteSource === 'head-shape') matte = headPriorMatte(opaqueCrop, cropLandmarks);
  for (let p = 0; p < matte.length; p++) crop.data[p * 4 + 3] = Math.min(matte[p], crop.data[p * 4 + 3]);

  const camera: Camera = { intrinsics: normalisedIntrinsics(PANOHEAD_FOCAL, settings.size, settings.size), cam2world };
  // Drawn on the detection image (at most detectionSize across), not the full-size source: it is only looked at.
  const overlay = await drawOverlay(detectionImage, sourceWidth, sourceHeight, face, cropCorners(quad), cropCorners(cropSquare));
  const warnings: string[] = [];
  if (matteSource === 'head-shape') {
    warnings.push(
      `the segmentation model missed the person (its matte covered ${Math.round(coverage * 100)} % of the face), ` +
        "so the matte was made from a head shape and the picture's colours; check crop.png's transparency",
    );
  }
  if (faceSide < SMALL_FACE_FRACTION * Math.max(sourceWidth, sourceHeight)) {
    warnings.push(
      `the face used is small in the picture (${Math.round(faceSide)} px in ${sourceWidth}×${sourceHeight}); ` +
        'check overlay.png that it is the subject, and if not, crop the photo around the subject',
    );
  }
  return { crop, camera, angles, facesFound: faces.length, warnings, face, pose, cropSquare, outsideFraction, matteSource, faceCoverage: coverage, overlay };
}

/** Files written by `preprocess`, by role. */
export interface PreprocessFiles {
  crop: string;
  camera: string;
  dataset: string;
  overlay: string;
}

/** A portrait file that has been read and whose header has been checked; its pixels are decoded at the sizes asked for. */
export interface PortraitFile {
  path: string;
  image: ScalableImage;
}

/**
 * Reads a portrait file and checks what its header says (an image sharp reads, not too large, at
 * least 32 px across) without decoding the pixels, so a wrong file fails in milliseconds, before
 * any model is loaded. Damage further into the file shows when the pixels are decoded.
 */
export async function openPortrait(imagePath: string): Promise<PortraitFile> {
  let bytes: Buffer;
  try {
    bytes = await readFile(imagePath);
  } catch (error) {
    throw fileError(error, imagePath, 'portrait');
  }
  const header = await sharp(bytes, { limitInputPixels: MAX_INPUT_PIXELS }).metadata().catch(() => undefined);
  const { width = 0, height = 0 } = header ?? {};
  if (!header || width * height === 0 || width * height > MAX_INPUT_PIXELS) {
    await decodeImage(bytes, imagePath); // throws the specific error (not an image, too large, empty, damaged)
  }
  if (Math.min(width, height) < 32 && header) {
    throw new Head3dError(`the portrait is only ${width}×${height} pixels`, { hint: 'use a photo at least 256 pixels across' });
  }
  return { path: imagePath, image: await scalableImageFromBytes(bytes, imagePath) };
}

/**
 * Reads a portrait, preprocesses it and writes crop.png, camera.json (a one-frame transforms.json),
 * dataset.json (PanoHead label) and overlay.png into `outDir`. Each file is written under a
 * temporary name and renamed; nothing is written when preprocessing fails. `portrait` is a path or
 * an opened file (so a caller can check the file, then decode while the models load).
 */
export async function preprocess(
  portrait: string | PortraitFile,
  outDir: string,
  models: FaceModels,
  options: PreprocessOptions = {},
): Promise<PreprocessResult & { files: PreprocessFiles }> {
  const file = typeof portrait === 'string' ? await openPortrait(portrait) : portrait;
  const imagePath = file.path;
  const source = file.image;
  const result = await preprocessImage(source, models, options);
  const files: PreprocessFiles = {
    crop: join(outDir, 'crop.png'),
    camera: join(outDir, 'camera.json'),
    dataset: join(outDir, 'dataset.json'),
    overlay: join(outDir, 'overlay.png'),
  };
  options.onProgress?.('writing');
  // The two PNG encodes run on sharp's threads while the JSON files are written.
  const pngs = Promise.all([writePng(files.crop, result.crop), writePng(files.overlay, result.overlay)]);
  pngs.catch(() => {}); // awaited below; this keeps a failure from being reported as unhandled meanwhile
  await writeTransformsJson(files.camera, { baseDir: outDir, frames: [{ filePath: 'crop.png', camera: result.camera }] }, {
    head3d: {
      source: basename(imagePath),
      world: 'panohead',
      focal_normalised: PANOHEAD_FOCAL,
      camera_yaw_deg: round(result.angles.yawDeg),
      camera_pitch_deg: round(result.angles.pitchDeg),
      camera_roll_deg: round(result.angles.rollDeg),
      faces_found: result.facesFound,
      warnings: result.warnings,
      face_box: result.face.box.map(round),
      crop_square: { centre: result.cropSquare.centre.map(round), side: round(result.cropSquare.side), x_axis: result.cropSquare.xAxis.map((v) => round(v, 6)) },
      outside_fraction: round(result.outsideFraction, 4),
      matte: { source: result.matteSource, face_coverage: round(result.faceCoverage, 3) },
    },
  });
  await writeDatasetJson(files.dataset, [labelFromCamera('crop.png', result.camera)]);
  await pngs;
  return { ...result, files };
}

/** A chosen face whose side is under this fraction of the image's longer side earns a warning. */
const SMALL_FACE_FRACTION = 0.12;

/**
 * The portrait's subject: the largest face, or among faces nearly as large (sides within 80 % of
 * the largest), the one whose centre is nearest the image centre. A face in a picture in the
 * picture, or a bystander, is usually clearly smaller than the subject.
 */
export function chooseFace(faces: DetectedFace[], width: number, height: number): DetectedFace {
  const side = (f: DetectedFace) => Math.max(f.box[2], f.box[3]);
  const largest = Math.max(...faces.map(side));
  const distance = (f: DetectedFace) => Math.hypot(f.box[0] + f.box[2] / 2 - width / 2, f.box[1] + f.box[3] / 2 - height / 2);
  return faces.filter((f) => side(f) >= 0.8 * largest).sort((a, b) => distance(a) - distance(b))[0];
}

/**
 * Detects the face again in a `size`² view of twice the crop's extent (so the face fills about a
 * quarter of it, where the detector works best) and maps its landmarks back to source pixels
 * (`scale` converts `sampled` pixels to source pixels). Undefined when no face is found near the centre.
 */
async function refineFace(sampled: RgbaImage, crop: CropSquare, models: FaceModels, size: number, scale: number): Promise<DetectedFace | undefined> {
  const view: CropSquare = { ...crop, side: crop.side * 2 };
  const { image } = warpCrop(sampled, view, size);
  const faces = await models.detectFaces(opaque(image));
  if (faces.length === 0) return undefined;
  const face = chooseFace(faces, size, size);
  const [cx, cy] = [face.box[0] + face.box[2] / 2, face.box[1] + face.box[3] / 2];
  if (Math.hypot(cx - size / 2, cy - size / 2) > size / 4) return undefined;
  const toSource = (p: Point2): Point2 => cropToSource(view, p, size).map((v) => v * scale) as Point2;
  const landmarks = face.landmarks.map(([x, y, z]) => [...toSource([x, y]), z * (view.side / size) * scale] as [number, number, number]);
  const xs = landmarks.map((p) => p[0]), ys = landmarks.map((p) => p[1]);
  const box: DetectedFace['box'] = [Math.min(...xs), Math.min(...ys), Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys)];
  return { box, score: face.score, landmarks };
}

function scaleFace(face: DetectedFace, factor: number): DetectedFace {
  if (factor === 1) return face;
  return {
    ...face,
    box: face.box.map((v) => v * factor) as DetectedFace['box'],
    landmarks: face.landmarks.map(([x, y, z]) => [x * factor, y * factor, z * factor]),
  };
}

/** Composites transparent pixels over mid grey (their colour is often undefined), keeping the alpha. */
function flattenOnGrey(image: RgbaImage): RgbaImage {
  let opaqueAlready = true;
  for (let i = 3; i < image.data.length && opaqueAlready; i += 4) opaqueAlready = image.data[i] === 255;
  if (opaqueAlready) return image; // nothing to composite (callers never write into it)
  const data = new Uint8Array(image.data);
  for (let i = 0; i < data.length; i += 4) {
    const a = data[i + 3];
    if (a === 255) continue;
    for (let c = 0; c < 3; c++) data[i + c] = Math.round((data[i + c] * a + 128 * (255 - a)) / 255);
  }
  return { width: image.width, height: image.height, data };
}

function opaque(image: RgbaImage): RgbaImage {
  const data = new Uint8Array(image.data);
  for (let i = 3; i < data.length; i += 4) data[i] = 255;
  return { width: image.width, height: image.height, data };
}

/** The overlay at most 1024 px across, from `picture` (the source at any scale); points are in source pixels (sourceWidth × sourceHeight). */
async function drawOverlay(picture: RgbaImage, sourceWidth: number, sourceHeight: number, face: DetectedFace, quad: Point2[], crop: Point2[]): Promise<RgbaImage> {
  const scale = Math.min(1, 1024 / Math.max(sourceWidth, sourceHeight));
  const [width, height] = [Math.max(1, Math.round(sourceWidth * scale)), Math.max(1, Math.round(sourceHeight * scale))];
  const image = width !== picture.width || height !== picture.height ? await resizeImage(picture, width, height) : opaque(picture);
  for (let i = 3; i < image.data.length; i += 4) image.data[i] = 255;
  const s = (p: Point2): Point2 => [p[0] * image.width / sourceWidth, p[1] * image.height / sourceHeight];
  const thickness = Math.max(1, Math.round(Math.max(image.width, image.height) / 400));
  drawPolygon(image, crop.map(s), [255, 40, 40], thickness);
  drawPolygon(image, quad.map(s), [40, 220, 40], thickness);
  drawPoints(image, face.landmarks.slice(0, FACE_POINT_COUNT).map((p) => s([p[0], p[1]])), [40, 200, 255], thickness > 1 ? 1 : 0);
  return image;
}

function round(v: number, digits = 2): number {
  return Number(v.toFixed(digits)) + 0;
}
