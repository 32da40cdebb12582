import type { Vec3 } from '../../core/mat4.js';
import { createImage, type RgbaImage } from '../../core/image.js';
import { type HeadPose, projectWithPose } from './head-pose.js';
import { type Point2, faceKeyPoints, LANDMARK } from './landmarks.js';
import { FACE_TEMPLATE } from './face-template.js';

/**
 * A square crop of the source image: its centre, side and the direction of its x axis, in source
 * pixels. Output pixel (u, v) ∈ [0, 1)² sits at centre + side·((u − ½)·xAxis + (v − ½)·yAxis).
 */
export interface CropSquare {
  centre: Point2;
  side: number;
  /** Unit vector along the crop's rows; the y axis is this turned 90° clockwise (image y down). */
  xAxis: Point2;
}

/**
 * PanoHead's layout: the FFHQ 512 square placed in a 563² canvas 25 px from the left and 51 px
 * from the top (10 % top margin, 5 % side margins); DiffPortrait360 resizes 563 to 512.
 */
export const PANOHEAD_LAYOUT = { canvas: 563, square: 512, left: 25, top: 51 } as const;

/** Where the FFHQ quad centre lands in the final crop, as a fraction of its width and height. */
export const EXPECTED_FACE_CENTRE: Point2 = [
  (PANOHEAD_LAYOUT.left + PANOHEAD_LAYOUT.square / 2) / PANOHEAD_LAYOUT.canvas,
  (PANOHEAD_LAYOUT.top + PANOHEAD_LAYOUT.square / 2) / PANOHEAD_LAYOUT.canvas,
];

/**
 * The FFHQ-style oriented quad from eye centres and mouth corners (as in FFHQ's and PanoHead's
 * `get_crop_bound`): centred a tenth of the way from the eyes to the mouth, oriented along the eye
 * line corrected by the eye–mouth direction, sized by the larger of 2× eye distance and 1.8× eye–mouth.
 */
export function ffhqQuad(points: { rightEye: Point2; leftEye: Point2; mouthRight: Point2; mouthLeft: Point2 }): CropSquare {
  // In the image the subject's right eye is on the left: eye-to-eye runs left → right.
  const eyeAvg: Point2 = [(points.rightEye[0] + points.leftEye[0]) / 2, (points.rightEye[1] + points.leftEye[1]) / 2];
  const eyeToEye: Point2 = [points.leftEye[0] - points.rightEye[0], points.leftEye[1] - points.rightEye[1]];
  const mouthAvg: Point2 = [(points.mouthRight[0] + points.mouthLeft[0]) / 2, (points.mouthRight[1] + points.mouthLeft[1]) / 2];
  const eyeToMouth: Point2 = [mouthAvg[0] - eyeAvg[0], mouthAvg[1] - eyeAvg[1]];
  const x: Point2 = [eyeToEye[0] + eyeToMouth[1], eyeToEye[1] - eyeToMouth[0]];
  const length = Math.hypot(x[0], x[1]);
  const half = Math.max(Math.hypot(eyeToEye[0], eyeToEye[1]) * 2, Math.hypot(eyeToMouth[0], eyeToMouth[1]) * 1.8);
  return {
    centre: [eyeAvg[0] + eyeToMouth[0] * 0.1, eyeAvg[1] + eyeToMouth[1] * 0.1],
    side: 2 * half,
    xAxis: [x[0] / length, x[1] / length],
  };
}

/** The FFHQ quad of the face template seen from the front, in world units, and its centre as a 3D point. */
const TEMPLATE_QUAD = (() => {
  const point = (i: number): Vec3 => [FACE_TEMPLATE[i * 3], FACE_TEMPLATE[i * 3 + 1], FACE_TEMPLATE[i * 3 + 2]];
  const mid = (a: number, b: number): Vec3 => point(a).map((v, k) => (v + point(b)[k]) / 2) as Vec3;
  const rightEye = mid(LANDMARK.rightEyeOuter, LANDMARK.rightEyeInner);
  const leftEye = mid(LANDMARK.leftEyeInner, LANDMARK.leftEyeOuter);
  const mouth = mid(LANDMARK.mouthRight, LANDMARK.mouthLeft);
  const eyes = rightEye.map((v, k) => (v + leftEye[k]) / 2) as Vec3;
  const centre = eyes.map((v, k) => v + 0.1 * (mouth[k] - v)) as Vec3;
  // Seen from the front (image x = world x, image y = −world y).
  const frontal = ffhqQuad({
    rightEye: [rightEye[0], -rightEye[1]], leftEye: [leftEye[0], -leftEye[1]],
    mouthRight: [point(LANDMARK.mouthRight)[0], -point(LANDMARK.mouthRight)[1]],
    mouthLeft: [point(LANDMARK.mouthLeft)[0], -point(LANDMARK.mouthLeft)[1]],
  });
  return { centre, side: frontal.side };
})();

/**
 * The final crop for a detected face: the FFHQ quad's orientation, re-centred and re-sized by the
 * pose fit (the quad centre of the 3D template projected with the fitted pose, its frontal size
 * times the fitted scale, so a turned head keeps its size and centre), then expanded to PanoHead's
 * 563² layout.
 */
export function panoheadCrop(landmarks: ArrayLike<number>[], pose: HeadPose): { crop: CropSquare; quad: CropSquare } {
  const quad = ffhqQuad(faceKeyPoints(landmarks));
  const centre = projectWithPose(pose, TEMPLATE_QUAD.centre);
  const side = TEMPLATE_QUAD.side * pose.scale;
  const { canvas, square, left, top } = PANOHEAD_LAYOUT;
  // Canvas centre relative to the square's centre, in units of the square's side.
  const du = (canvas / 2 - (left + square / 2)) / square;
  const dv = (canvas / 2 - (top + square / 2)) / square;
  const [ax, ay] = quad.xAxis;
  const yAxis: Point2 = [-ay, ax];
  return {
    quad: { centre, side, xAxis: quad.xAxis },
    crop: {
      centre: [centre[0] + side * (du * ax + dv * yAxis[0]), centre[1] + side * (du * ay + dv * yAxis[1])],
      side: (side * canvas) / square,
      xAxis: quad.xAxis,
    },
  };
}

/** The corners of a crop square in source pixels: top-left, top-right, bottom-right, bottom-left. */
export function cropCorners(crop: CropSquare): Point2[] {
  const [ax, ay] = crop.xAxis;
  const h = crop.side / 2;
  return [[-1, -1], [1, -1], [1, 1], [-1, 1]].map(([u, v]) => [
    crop.centre[0] + h * (u * ax - v * ay),
    crop.centre[1] + h * (u * ay + v * ax),
  ]);
}

/** Maps a source pixel position into the crop's output pixels (size × size). */
export function sourceToCrop(crop: CropSquare, point: Point2, size: number): Point2 {
  const dx = point[0] - crop.centre[0];
  const dy = point[1] - crop.centre[1];
  const [ax, ay] = crop.xAxis;
  return [((dx * ax + dy * ay) / crop.side + 0.5) * size, ((-dx * ay + dy * ax) / crop.side + 0.5) * size];
}

/**
 * Resamples the crop square to size² RGBA: each output pixel averages a supersample×supersample
 * grid of bilinear samples. Outside the source image the picture is mirrored at the border and
 * then blurred, fading in with distance from the border, as PanoHead's crop does, so no hard
 * mirror seams or black corners reach the generator. Returns how much of the crop lies outside.
 */
export function warpCrop(source: RgbaImage, crop: CropSquare, size: number, supersample = 2): { image: RgbaImage; outsideFraction: number } {
  const out = createImage(size, size);
  const outside = new Float32Array(size * size);
  const [ax, ay] = crop.xAxis;
  const step = crop.side / size;
  const { width, height, data } = source;
  const reflect = (v: number, n: number): number => {
    if (v < 0 && v >= -n) return -1 - v;
    if (v >= n && v < 2 * n) return 2 * n - 1 - v;
    const period = 2 * n;
    let m = ((v % period) + period) % period;
    if (m >= n) m = period - 1 - m;
    return m;
  };
  // The sample offsets within a pixel, in crop units (the same for every pixel).
  const offsets = new Float64Array(supersample);
  for (let s = 0; s < supersample; s++) offsets[s] = ((s + 0.5) / supersample) * step;
  const half = crop.side / 2;
  const n = supersample * supersample;
  let outsideCount = 0;
  for (let j = 0; j < size; j++) {
    for (let i = 0; i < size; i++) {
      let r = 0, g = 0, b = 0, a = 0;
      let farthest = 0;
      for (let sj = 0; sj < supersample; sj++) {
        const v = j * step + offsets[sj] - half;
        for (let si = 0; si < supersample; si++) {
          const u = i * step + offsets[si] - half;
          const x = crop.centre[0] + u * ax - v * ay - 0.5;
          const y = crop.centre[1] + u * ay + v * ax - 0.5;
          const beyond = Math.max(-x - 0.5, x - (width - 0.5), -y - 0.5, y - (height - 0.5), 0);
          if (beyond > farthest) farthest = beyond;
          const x0 = Math.floor(x), y0 = Math.floor(y);
          const fx = x - x0, fy = y - y0;
          // Bilinear: column and row indices, reflected at the border only when they fall outside.
          const xa = x0 >= 0 && x0 < width ? x0 : reflect(x0, width);
          const xb = x0 + 1 >= 0 && x0 + 1 < width ? x0 + 1 : reflect(x0 + 1, width);
          const ya = y0 >= 0 && y0 < height ? y0 : reflect(y0, height);
          const yb = y0 + 1 >= 0 && y0 + 1 < height ? y0 + 1 : reflect(y0 + 1, height);
          const w00 = (1 - fx) * (1 - fy), w10 = fx * (1 - fy), w01 = (1 - fx) * fy, w11 = fx * fy;
          const k00 = (ya * width + xa) * 4, k10 = (ya * width + xb) * 4, k01 = (yb * width + xa) * 4, k11 = (yb * width + xb) * 4;
          r += w00 * data[k00] + w10 * data[k10] + w01 * data[k01] + w11 * data[k11];
          g += w00 * data[k00 + 1] + w10 * data[k10 + 1] + w01 * data[k01 + 1] + w11 * data[k11 + 1];
          b += w00 * data[k00 + 2] + w10 * data[k10 + 2] + w01 * data[k01 + 2] + w11 * data[k11 + 2];
          a += w00 * data[k00 + 3] + w10 * data[k10 + 3] + w01 * data[k01 + 3] + w11 * data[k11 + 3];
        }
      }
      const o = (j * size + i) * 4;
      out.data[o] = Math.round(r / n);
      out.data[o + 1] = Math.round(g / n);
      out.data[o + 2] = Math.round(b / n);
      out.data[o + 3] = Math.round(a / n);
      if (farthest > 0) {
        outsideCount++;
        outside[j * size + i] = Math.min(1, farthest / step / (0.1 * size));
      }
    }
  }
  if (outsideCount > 0) blendBlurredOutside(out, outside);
  return { image: out, outsideFraction: outsideCount / (size * size) };
}

/** Replaces pixels outside the source by a blurred copy, in proportion to their distance from it. */
function blendBlurredOutside(image: RgbaImage, weight: Float32Array): void {
  const radius = Math.max(1, Math.round(image.width * 0.02));
  let blurred = image.data;
  for (let pass = 0; pass < 3; pass++) blurred = boxBlur(blurred, image.width, image.height, radius);
  for (let p = 0; p < weight.length; p++) {
    const w = Math.min(1, 0.3 + weight[p]);
    if (weight[p] === 0) continue;
    for (let c = 0; c < 3; c++) image.data[p * 4 + c] = Math.round(image.data[p * 4 + c] * (1 - w) + blurred[p * 4 + c] * w);
  }
}

function boxBlur(src: Uint8Array, width: number, height: number, radius: number): Uint8Array {
  const tmp = new Uint8Array(src.length);
  const dst = new Uint8Array(src.length);
  const inverse = 1 / (2 * radius + 1);
  // The pixel entering and the pixel leaving the window after position k, clamped to the edge.
  const entering = (length: number) => Int32Array.from({ length }, (_, k) => Math.min(length - 1, k + radius + 1));
  const leaving = (length: number) => Int32Array.from({ length }, (_, k) => Math.max(0, k - radius));
  // Along rows: one running sum per channel.
  const enterX = entering(width), leaveX = leaving(width);
  for (let y = 0; y < height; y++) {
    const row = y * width * 4;
    let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    for (let k = -radius; k <= radius; k++) {
      const o = row + Math.min(width - 1, Math.max(0, k)) * 4;
      a0 += src[o]; a1 += src[o + 1]; a2 += src[o + 2]; a3 += src[o + 3];
    }
    for (let x = 0; x < width; x++) {
      const o = row + x * 4;
      tmp[o] = Math.round(a0 * inverse);
      tmp[o + 1] = Math.round(a1 * inverse);
      tmp[o + 2] = Math.round(a2 * inverse);
      tmp[o + 3] = Math.round(a3 * inverse);
      const e = row + enterX[x] * 4, l = row + leaveX[x] * 4;
      a0 += src[e] - src[l]; a1 += src[e + 1] - src[l + 1]; a2 += src[e + 2] - src[l + 2]; a3 += src[e + 3] - src[l + 3];
    }
  }
  // Along columns, a row at a time (memory order): one running sum per column and channel.
  const rowBytes = width * 4;
  const enterY = entering(height), leaveY = leaving(height);
  const acc = new Int32Array(rowBytes);
  for (let k = -radius; k <= radius; k++) {
    const row = Math.min(height - 1, Math.max(0, k)) * rowBytes;
    for (let i = 0; i < rowBytes; i++) acc[i] += tmp[row + i];
  }
  for (let y = 0; y < height; y++) {
    const row = y * rowBytes, e = enterY[y] * rowBytes, l = leaveY[y] * rowBytes;
    for (let i = 0; i < rowBytes; i++) {
      dst[row + i] = Math.round(acc[i] * inverse);
      acc[i] += tmp[e + i] - tmp[l + i];
    }
  }
  return dst;
}

/** Maps a crop's output pixel position (size × size) back to source pixels; the inverse of `sourceToCrop`. */
export function cropToSource(crop: CropSquare, point: Point2, size: number): Point2 {
  const u = (point[0] / size - 0.5) * crop.side;
  const v = (point[1] / size - 0.5) * crop.side;
  const [ax, ay] = crop.xAxis;
  return [crop.centre[0] + u * ax - v * ay, crop.centre[1] + u * ay + v * ax];
}
