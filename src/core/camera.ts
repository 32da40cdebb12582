import {
  type Mat4, type Vec3, column3, cross3, fromColumns, invertAffine4, normalize3, sub3, transformPoint,
} from './mat4.js';

/**
 * Pinhole intrinsics in pixels. Pixel (0,0)'s centre sits at (0.5, 0.5): a point projects to
 * u = fx·x/z + cx, so cx = width/2 puts the principal point at the image centre.
 */
export interface Intrinsics {
  fx: number;
  fy: number;
  cx: number;
  cy: number;
  width: number;
  height: number;
}

/**
 * A camera with its cam2world in **OpenCV axes** (+x right, +y down, +z looking forward), as in
 * PanoHead's dataset.json. transforms.json stores OpenGL axes; convert with `opencvToOpengl`.
 */
export interface Camera {
  intrinsics: Intrinsics;
  cam2world: Mat4;
}

/** PanoHead's normalised focal length (in image widths) and orbit radius. */
export const PANOHEAD_FOCAL = 4.2647;
export const PANOHEAD_RADIUS = 2.7;
export const PANOHEAD_ORBIT_FRAMES = 32;

/**
 * OpenCV ↔ OpenGL camera axes: negate the y and z columns of the rotation. The operation is its
 * own inverse, so the same function converts both ways.
 */
export function opencvToOpengl(cam2world: Mat4): Mat4 {
  const m = cam2world.slice();
  for (let r = 0; r < 3; r++) {
    m[r * 4 + 1] = -m[r * 4 + 1];
    m[r * 4 + 2] = -m[r * 4 + 2];
  }
  return m;
}

export const openglToOpencv = opencvToOpengl;

export function normalisedIntrinsics(focal: number, width: number, height: number): Intrinsics {
  return { fx: focal * width, fy: focal * height, cx: width / 2, cy: height / 2, width, height };
}

/** A camera at `position` looking at `target`, image-up along `up` (OpenCV axes, like EG3D's LookAtPoseSampler). */
export function lookAt(position: Vec3, target: Vec3, up: Vec3 = [0, 1, 0]): Mat4 {
  const forward = normalize3(sub3(target, position));
  const right = normalize3(cross3(forward, up));
  const down = cross3(forward, right);
  return fromColumns(right, down, forward, position);
}

export interface OrbitOptions {
  frames?: number;
  radius?: number;
  /** Camera elevation above the equator in degrees (positive looks down on the head). */
  elevationDeg?: number;
  /** Yaw of frame 0 in degrees; 0 is frontal (camera on +Z). */
  startYawDeg?: number;
  size?: number;
  focal?: number;
}

/**
 * PanoHead's 360° orbit as DiffPortrait360 uses it: frame k at yaw 2πk/n on a sphere of radius 2.7
 * around the origin, frame 0 frontal (camera on +Z), frame n/4 seeing the subject's left side.
 * PanoHead's code writes 3.14 for π; we use π (the difference is below 0.05°).
 */
export function panoheadOrbit(options: OrbitOptions = {}): Camera[] {
  const frames = options.frames ?? PANOHEAD_ORBIT_FRAMES;
  const radius = options.radius ?? PANOHEAD_RADIUS;
  const elevation = ((options.elevationDeg ?? 0) * Math.PI) / 180;
  const startYaw = ((options.startYawDeg ?? 0) * Math.PI) / 180;
  const size = options.size ?? 512;
  const intrinsics = normalisedIntrinsics(options.focal ?? PANOHEAD_FOCAL, size, size);
  const cameras: Camera[] = [];
  for (let k = 0; k < frames; k++) {
    const yaw = startYaw + (2 * Math.PI * k) / frames;
    cameras.push({ intrinsics: { ...intrinsics }, cam2world: orbitPose(yaw, elevation, radius) });
  }
  return cameras;
}

/** cam2world (OpenCV) of a camera at `yaw` (radians, 0 = frontal) and `elevation` looking at the origin. */
export function orbitPose(yaw: number, elevation: number, radius = PANOHEAD_RADIUS): Mat4 {
  const position: Vec3 = [
    radius * Math.cos(elevation) * Math.sin(yaw),
    radius * Math.sin(elevation),
    radius * Math.cos(elevation) * Math.cos(yaw),
  ];
  return lookAt(position, [0, 0, 0]);
}

export function cameraCentre(camera: Camera): Vec3 {
  return column3(camera.cam2world, 3);
}

/** Projects a world point to pixel coordinates and depth along the viewing axis. */
export function projectPoint(camera: Camera, point: Vec3): { u: number; v: number; depth: number } {
  const p = transformPoint(invertAffine4(camera.cam2world), point);
  const { fx, fy, cx, cy } = camera.intrinsics;
  return { u: (fx * p[0]) / p[2] + cx, v: (fy * p[1]) / p[2] + cy, depth: p[2] };
}

export function scaleIntrinsics(intrinsics: Intrinsics, width: number, height: number): Intrinsics {
  const sx = width / intrinsics.width;
  const sy = height / intrinsics.height;
  return { fx: intrinsics.fx * sx, fy: intrinsics.fy * sy, cx: intrinsics.cx * sx, cy: intrinsics.cy * sy, width, height };
}
