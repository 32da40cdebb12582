import type { Camera } from '../../core/camera.js';
import { type Mat4, type Vec3, invertAffine4, transformPoint } from '../../core/mat4.js';
import { Head3dError } from '../../core/errors.js';
import { FACE_TEMPLATE } from '../preprocess/face-template.js';
import { FACE_POINT_COUNT, SILHOUETTE } from '../preprocess/landmarks.js';

/** A landmark in crop pixels: x right, y down, z the landmark model's relative depth (unused here). */
export type CropLandmark = [number, number, number];

/**
 * Where the head sits in PanoHead's world as the input camera sees it: world = centre + scale · q
 * for a point q in head-local coordinates (the face template's frame: +Y up, face toward +Z, head
 * centre at the origin, crown-to-neck about 0.55).
 */
export interface HeadFrame {
  centre: Vec3;
  scale: number;
  /** The 468 face landmarks lifted to head-local 3D: image position from the photo, depth from the template. */
  face: Float32Array;
  /** world → camera (OpenCV) of the input camera. */
  world2cam: Mat4;
  /** Pixels per unit of camera-space x/z (the focal length in pixels). */
  focal: number;
}

/**
 * Places the face template under the photo's landmarks. The input camera (PanoHead sphere, focal
 * 4.2647) is fixed, so the fit solves only for the head's scale and its offset across the view
 * (weak perspective at the orbit radius, least squares over the non-contour landmarks); each
 * landmark is then lifted along its pixel's ray to the depth the fitted template gives it.
 */
export function fitHeadFrame(landmarks: CropLandmark[], camera: Camera): HeadFrame {
  if (landmarks.length < FACE_POINT_COUNT) {
    throw new Head3dError(`proxy: ${landmarks.length} face landmarks given, ${FACE_POINT_COUNT} needed`, { hint: 'run preprocess again' });
  }
  const w2c = invertAffine4(camera.cam2world);
  const { fx, fy, cx, cy } = camera.intrinsics;
  const distance = Math.hypot(camera.cam2world[3], camera.cam2world[7], camera.cam2world[11]);
  const rotated = (i: number): Vec3 => {
    const X = FACE_TEMPLATE[i * 3], Y = FACE_TEMPLATE[i * 3 + 1], Z = FACE_TEMPLATE[i * 3 + 2];
    return [w2c[0] * X + w2c[1] * Y + w2c[2] * Z, w2c[4] * X + w2c[5] * Y + w2c[6] * Z, w2c[8] * X + w2c[9] * Y + w2c[10] * Z];
  };
  // Weak perspective: (u − cx)·d/fx ≈ s·Px + tx, likewise for v.
  const contour = new Set(SILHOUETTE);
  const points = Array.from({ length: FACE_POINT_COUNT }, (_, i) => i).filter((i) => !contour.has(i));
  const P = points.map(rotated);
  const D = points.map((i) => [((landmarks[i][0] - cx) * distance) / fx, ((landmarks[i][1] - cy) * distance) / fy]);
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  const mP = [mean(P.map((p) => p[0])), mean(P.map((p) => p[1]))];
  const mD = [mean(D.map((d) => d[0])), mean(D.map((d) => d[1]))];
  let num = 0, den = 0;
  for (let k = 0; k < points.length; k++) {
    for (const a of [0, 1]) {
      num += (P[k][a] - mP[a]) * (D[k][a] - mD[a]);
      den += (P[k][a] - mP[a]) ** 2;
    }
  }
  const scale = num / den;
  if (!(scale > 0.3 && scale < 3)) {
    throw new Head3dError(`proxy: the landmarks do not fit a head at the input camera (scale ${scale.toFixed(2)})`, { hint: 'run preprocess again on this portrait' });
  }
  const centreCam: Vec3 = [mD[0] - scale * mP[0], mD[1] - scale * mP[1], distance];
  const cam2world = camera.cam2world;
  const centre = transformPoint(cam2world, centreCam);
  const face = new Float32Array(FACE_POINT_COUNT * 3);
  for (let i = 0; i < FACE_POINT_COUNT; i++) {
    const depth = distance + scale * rotated(i)[2];
    const pCam: Vec3 = [((landmarks[i][0] - cx) * depth) / fx, ((landmarks[i][1] - cy) * depth) / fy, depth];
    const p = transformPoint(cam2world, pCam);
    for (let k = 0; k < 3; k++) face[i * 3 + k] = (p[k] - centre[k]) / scale;
  }
  return { centre, scale, face, world2cam: w2c, focal: (fx + fy) / 2 };
}

/** Head-local → world. */
export function headToWorld(frame: HeadFrame, q: Vec3): Vec3 {
  return [frame.centre[0] + frame.scale * q[0], frame.centre[1] + frame.scale * q[1], frame.centre[2] + frame.scale * q[2]];
}
