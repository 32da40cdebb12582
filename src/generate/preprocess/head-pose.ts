import { type Mat4, type Vec3, invertAffine4 } from '../../core/mat4.js';
import { PANOHEAD_RADIUS } from '../../core/camera.js';
import { FACE_POINT_COUNT, SILHOUETTE } from './landmarks.js';
import { FACE_TEMPLATE } from './face-template.js';

/** A 3×3 rotation, row-major. */
export type Mat3 = [number, number, number, number, number, number, number, number, number];

/**
 * Head pose from a weak-perspective fit of the face template to 2D landmarks:
 * pixel = scale · (R · X)ₓᵧ + translation for every template point X (PanoHead world, metres/0.43).
 */
export interface HeadPose {
  /** world → camera rotation in OpenCV axes (x right, y down, z forward). */
  rotation: Mat3;
  /** Pixels per world unit at the face. */
  scale: number;
  /** Where the world origin (the head centre) projects, in pixels. */
  translation: [number, number];
  /** Root-mean-square landmark residual in pixels. */
  rmsPixels: number;
}

/**
 * The camera's place on PanoHead's sphere, in degrees. yaw > 0: the camera has moved toward the
 * subject's left (+X), so the subject looks toward the image's left; pitch > 0: the camera is above
 * the head, looking down on it; roll > 0: the image is turned clockwise against an upright head
 * (the subject's head appears tilted counter-clockwise... i.e. toward the image's right shoulder).
 */
export interface CameraAngles {
  yawDeg: number;
  pitchDeg: number;
  rollDeg: number;
}

const FIT_POINTS: number[] = (() => {
  const skip = new Set(SILHOUETTE);
  return Array.from({ length: FACE_POINT_COUNT }, (_, i) => i).filter((i) => !skip.has(i));
})();

/**
 * Fits the face template to the 2D landmarks by Gauss–Newton over rotation, scale and translation,
 * starting from a frontal pose.
 */
export function estimateHeadPose(landmarks: ArrayLike<number>[], points: number[] = FIT_POINTS): HeadPose {
  const T = FACE_TEMPLATE;
  let R = [1, 0, 0, 0, -1, 0, 0, 0, -1];
  let tx = 0;
  let ty = 0;
  for (const i of points) {
    tx += landmarks[i][0] / points.length;
    ty += landmarks[i][1] / points.length;
  }
  let spreadImage = 0;
  let spreadTemplate = 0;
  for (const i of points) {
    spreadImage += (landmarks[i][0] - tx) ** 2 + (landmarks[i][1] - ty) ** 2;
    spreadTemplate += T[i * 3] ** 2 + T[i * 3 + 1] ** 2;
  }
  let s = Math.sqrt(spreadImage / spreadTemplate);
  const residual = (): number => {
    let sum = 0;
    for (const i of points) {
      const X = T[i * 3], Y = T[i * 3 + 1], Z = T[i * 3 + 2];
      sum += (s * (R[0] * X + R[1] * Y + R[2] * Z) + tx - landmarks[i][0]) ** 2;
      sum += (s * (R[3] * X + R[4] * Y + R[5] * Z) + ty - landmarks[i][1]) ** 2;
    }
    return sum;
  };
  for (let iteration = 0; iteration < 50; iteration++) {
    const JtJ = Array.from({ length: 6 }, () => new Float64Array(6));
    const Jtr = new Float64Array(6);
    for (const i of points) {
      const X = T[i * 3], Y = T[i * 3 + 1], Z = T[i * 3 + 2];
      const q0 = R[0] * X + R[1] * Y + R[2] * Z;
      const q1 = R[3] * X + R[4] * Y + R[5] * Z;
      const q2 = R[6] * X + R[7] * Y + R[8] * Z;
      const rx = s * q0 + tx - landmarks[i][0];
      const ry = s * q1 + ty - landmarks[i][1];
      // Update R ← exp([ω]×)·R: d(Rq)/dω = −[q]×; parameters (ω0, ω1, ω2, s, tx, ty).
      const jx = [0, s * q2, -s * q1, q0, 1, 0];
      const jy = [-s * q2, 0, s * q0, q1, 0, 1];
      for (let a = 0; a < 6; a++) {
        Jtr[a] += jx[a] * rx + jy[a] * ry;
        for (let b = 0; b < 6; b++) JtJ[a][b] += jx[a] * jx[b] + jy[a] * jy[b];
      }
    }
    const step = solve6(JtJ, Jtr);
    R = multiply3(rodrigues(-step[0], -step[1], -step[2]), R);
    s -= step[3];
    tx -= step[4];
    ty -= step[5];
    if (Math.hypot(step[0], step[1], step[2]) < 1e-10) break;
  }
  return {
    rotation: R as Mat3,
    scale: s,
    translation: [tx, ty],
    rmsPixels: Math.sqrt(residual() / points.length),
  };
}

/**
 * PanoHead's camera for a head pose: on the radius-2.7 sphere, looking at the origin, rotated by
 * the head pose (world2cam = [R | (0, 0, 2.7)]), returned as cam2world in OpenCV axes.
 */
export function cameraFromPose(rotation: Mat3, radius = PANOHEAD_RADIUS): Mat4 {
  const world2cam: Mat4 = [
    rotation[0], rotation[1], rotation[2], 0,
    rotation[3], rotation[4], rotation[5], 0,
    rotation[6], rotation[7], rotation[8], radius,
    0, 0, 0, 1,
  ];
  return invertAffine4(world2cam);
}

/** Yaw, pitch (elevation) and roll of a cam2world on PanoHead's sphere; see `CameraAngles` for signs. */
export function cameraAngles(cam2world: Mat4): CameraAngles {
  const position: Vec3 = [cam2world[3], cam2world[7], cam2world[11]];
  const distance = Math.hypot(...position);
  const yaw = Math.atan2(position[0], position[2]);
  const pitch = Math.asin(position[1] / distance);
  // Roll: the camera's x axis against the horizontal direction of an upright camera at the same place.
  const right: Vec3 = [cam2world[0], cam2world[4], cam2world[8]];
  const down: Vec3 = [cam2world[1], cam2world[5], cam2world[9]];
  const uprightRight: Vec3 = [Math.cos(yaw), 0, -Math.sin(yaw)];
  const roll = Math.atan2(-(down[0] * uprightRight[0] + down[1] * uprightRight[1] + down[2] * uprightRight[2]),
    right[0] * uprightRight[0] + right[1] * uprightRight[1] + right[2] * uprightRight[2]);
  const deg = 180 / Math.PI;
  return { yawDeg: yaw * deg, pitchDeg: pitch * deg, rollDeg: roll * deg };
}

/** Rotation about the viewing axis that turns image directions by −angle: what rotating the image by −angle does to a camera. */
export function rollCamera(rotation: Mat3, angle: number): Mat3 {
  const c = Math.cos(angle), s = Math.sin(angle);
  return multiply3([c, s, 0, -s, c, 0, 0, 0, 1], rotation) as Mat3;
}

/** Projects a template point with a fitted pose, in pixels. */
export function projectWithPose(pose: HeadPose, point: Vec3): [number, number] {
  const R = pose.rotation;
  return [
    pose.scale * (R[0] * point[0] + R[1] * point[1] + R[2] * point[2]) + pose.translation[0],
    pose.scale * (R[3] * point[0] + R[4] * point[1] + R[5] * point[2]) + pose.translation[1],
  ];
}

function rodrigues(wx: number, wy: number, wz: number): number[] {
  const angle = Math.hypot(wx, wy, wz);
  if (angle < 1e-15) return [1, -wz, wy, wz, 1, -wx, -wy, wx, 1];
  const [x, y, z] = [wx / angle, wy / angle, wz / angle];
  const c = Math.cos(angle), s = Math.sin(angle), t = 1 - c;
  return [
    t * x * x + c, t * x * y - s * z, t * x * z + s * y,
    t * x * y + s * z, t * y * y + c, t * y * z - s * x,
    t * x * z - s * y, t * y * z + s * x, t * z * z + c,
  ];
}

function multiply3(a: number[], b: number[]): number[] {
  const out = new Array<number>(9);
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) out[r * 3 + c] = a[r * 3] * b[c] + a[r * 3 + 1] * b[3 + c] + a[r * 3 + 2] * b[6 + c];
  return out;
}

/** Solves a 6×6 system by Gaussian elimination with partial pivoting. */
function solve6(A: Float64Array[], b: Float64Array): number[] {
  const m = A.map((row, i) => [...row, b[i]]);
  const n = 6;
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r][c]) > Math.abs(m[p][c])) p = r;
    [m[c], m[p]] = [m[p], m[c]];
    if (Math.abs(m[c][c]) < 1e-300) return new Array<number>(n).fill(0);
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r][c] / m[c][c];
      for (let k = c; k <= n; k++) m[r][k] -= f * m[c][k];
    }
  }
  return m.map((row, i) => row[n] / row[i]);
}
