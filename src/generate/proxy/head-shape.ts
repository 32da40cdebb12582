import { type Camera, PANOHEAD_FOCAL, PANOHEAD_RADIUS } from '../../core/camera.js';
import type { RgbaImage } from '../../core/image.js';
import { type FaceSurface, buildFaceSurface, faceDepth, polygonDistance } from './face-surface.js';
import { type HeadFrame, type CropLandmark, fitHeadFrame } from './head-frame.js';
import { sampleFloat, signedDistance } from './distance-transform.js';

/** Proportions of the generic head around the face, in head-local units (the face template's). */
export interface HeadProportions {
  /** Cranium ellipsoid centre and radii (x, y, z toward the back); x, y and the back grow to the matte's hair outline. */
  craniumCentre: [number, number, number];
  craniumRadii: [number, number, number];
  /** Cranium radius toward the face (+z); fixed so the cranium stays behind the forehead. */
  craniumFront: number;
  /** Neck: an elliptic cylinder up to `neckTop`, radii x and z, centred at `neckZ`. */
  neckRadii: [number, number];
  neckZ: number;
  neckTop: number;
  /** Torso ellipsoid below the neck (cut off by `neckEnd` unless that is lowered). */
  torsoCentre: [number, number, number];
  torsoRadii: [number, number, number];
  /**
   * Where the proxy ends below the chin (head-local y; the chin is near −0.2), with a rounded
   * edge of radius `neckRounding`. Never lower than `orbitMargin` above the bottom of the orbit
   * views' frames: below it no view sees the proxy, so the fit could only cut it off flat.
   */
  neckEnd: number;
  neckRounding: number;
  /**
   * World units by which the whole proxy stays inside every orbit view's frame (its end below the
   * chin, the back and top of the head): a view that crops the head cannot carve the space around
   * it, and a fit of views that all crop the back of the head keeps fins there.
   */
  orbitMargin: number;
  /** How far back from the face surface the face volume reaches (z). */
  faceBack: number;
  /** Blend radius of the smooth union. */
  blend: number;
  /** Thickness cap of the silhouette inflation that covers matte regions (hair, clothes) the parts miss. */
  inflation: number;
}

export const HEAD_PROPORTIONS: HeadProportions = {
  craniumCentre: [0, 0.06, -0.02],
  craniumRadii: [0.175, 0.25, 0.225],
  craniumFront: 0.2,
  neckRadii: [0.105, 0.11],
  neckZ: -0.03,
  neckTop: -0.05,
  torsoCentre: [0, -0.62, -0.04],
  torsoRadii: [0.42, 0.3, 0.16],
  neckEnd: -0.3,
  neckRounding: 0.06,
  orbitMargin: 0.025,
  faceBack: -0.05,
  blend: 0.03,
  inflation: 0.12,
};

/**
 * The proxy's geometry as an implicit surface: a smooth union of a cranium, the face (the landmark
 * height field inside the face oval), a neck, a torso and an inflation of the matte, ended with a
 * rounded cut below the chin (a bust: the orbit views do not see the shoulders), intersected with
 * the cone of rays through the matte from the input camera, so that the input camera sees exactly
 * the matte's outline above the cut. `distance` is an approximate signed distance in world units
 * (negative inside).
 */
export class HeadShape {
  readonly frame: HeadFrame;
  readonly surface: FaceSurface;
  readonly proportions: HeadProportions;
  private readonly matteDistance: Float32Array;
  private readonly width: number;
  private readonly height: number;
  private readonly camera: Camera;
  /** Head-local y of the bottom cut. */
  private readonly bottom: number;

  constructor(crop: RgbaImage, camera: Camera, landmarks: CropLandmark[], proportions: Partial<HeadProportions> = {}) {
    this.camera = camera;
    this.frame = fitHeadFrame(landmarks, camera);
    this.surface = buildFaceSurface(this.frame.face);
    this.width = crop.width;
    this.height = crop.height;
    const inside = new Uint8Array(crop.width * crop.height);
    for (let i = 0; i < inside.length; i++) inside[i] = crop.data[i * 4 + 3] >= 128 ? 1 : 0;
    this.matteDistance = signedDistance(inside, crop.width, crop.height);
    this.proportions = { ...HEAD_PROPORTIONS, ...proportions };
    this.proportions.craniumRadii = this.fitCraniumToMatte(inside);
    const frameBottom = -(0.5 * PANOHEAD_RADIUS) / PANOHEAD_FOCAL + this.proportions.orbitMargin;
    this.bottom = Math.max(this.proportions.neckEnd, (frameBottom - this.frame.centre[1]) / this.frame.scale);
  }

  /** Approximate signed distance (world units) at a world point. */
  distance(x: number, y: number, z: number): number {
    const f = this.frame;
    const s = f.scale;
    const qx = (x - f.centre[0]) / s, qy = (y - f.centre[1]) / s, qz = (z - f.centre[2]) / s;
    const cone = this.coneDistance(x, y, z);
    if (cone > 0.03) return cone; // far outside the matte's cone: the parts cannot matter
    const union = this.partsDistance(qx, qy, qz, x, y, z);
    return Math.max(this.orbitFrameClip(union * s, x, y, z), cone);
  }

  /**
   * Rounds off what would stick out of some orbit view's frame: farther than the frame's half
   * width from the vertical axis (what a side view sees) or above its top edge as seen from a
   * camera on the point's side (the crown from behind).
   */
  private orbitFrameClip(d: number, x: number, y: number, z: number): number {
    const half = 0.5 / PANOHEAD_FOCAL;
    const margin = this.proportions.orbitMargin;
    const radial = Math.hypot(x, z);
    const side = radial - (half * PANOHEAD_RADIUS - margin);
    const top = y - (half * (PANOHEAD_RADIUS - radial) - margin);
    const k = this.proportions.blend;
    return smoothMax(smoothMax(d, side, k), top, k);
  }

  /** Signed distance to the cone of rays through the matte (world units; outside the image counts as outside). */
  coneDistance(x: number, y: number, z: number): number {
    const m = this.frame.world2cam;
    const X = m[0] * x + m[1] * y + m[2] * z + m[3];
    const Y = m[4] * x + m[5] * y + m[6] * z + m[7];
    const Z = m[8] * x + m[9] * y + m[10] * z + m[11];
    if (Z < 0.1) return 1;
    const { fx, fy, cx, cy } = this.camera.intrinsics;
    const u = (fx * X) / Z + cx, v = (fy * Y) / Z + cy;
    const beyond = Math.max(-u, u - this.width, -v, v - this.height);
    const inImage = sampleFloat(this.matteDistance, this.width, this.height, u, v);
    const pixels = beyond > 0 ? Math.max(inImage, beyond) : inImage;
    return (pixels * Z) / this.frame.focal;
  }

  /** Smooth union of the head's parts, head-local units. */
  private partsDistance(qx: number, qy: number, qz: number, x: number, y: number, z: number): number {
    const p = this.proportions;
    const dz = qz - p.craniumCentre[2];
    const cranium = ellipsoid(qx - p.craniumCentre[0], qy - p.craniumCentre[1], dz, dz > 0 ? [p.craniumRadii[0], p.craniumRadii[1], p.craniumFront] : p.craniumRadii);
    const oval = polygonDistance(this.surface.oval, qx, qy);
    const face = Math.max(oval, qz - faceDepth(this.surface, qx, qy), p.faceBack - qz);
    const neck = Math.max(ellipse(qx, qz - p.neckZ, p.neckRadii[0], p.neckRadii[1]), qy - p.neckTop);
    const torso = ellipsoid(qx - p.torsoCentre[0], qy - p.torsoCentre[1], qz - p.torsoCentre[2], p.torsoRadii);
    let d = smoothMin(cranium, face, p.blend);
    d = smoothMin(d, neck, p.blend);
    d = smoothMin(d, torso, p.blend);
    d = Math.min(d, this.inflationDistance(x, y, z) / this.frame.scale);
    return smoothMax(d, this.bottom - qy, p.neckRounding);
  }

  /**
   * A round-edged slab through the head centre's depth, as thick as the matte is wide at that pixel
   * (up to `inflation`): it fills matte regions that the parts miss, such as big hair or clothes.
   */
  private inflationDistance(x: number, y: number, z: number): number {
    const m = this.frame.world2cam;
    const c = this.frame.centre;
    const Z = m[8] * x + m[9] * y + m[10] * z + m[11];
    const Zc = m[8] * c[0] + m[9] * c[1] + m[10] * c[2] + m[11];
    const X = m[0] * x + m[1] * y + m[2] * z + m[3];
    const Y = m[4] * x + m[5] * y + m[6] * z + m[7];
    if (Z < 0.1) return 1;
    const { fx, fy, cx, cy } = this.camera.intrinsics;
    const inward = -(sampleFloat(this.matteDistance, this.width, this.height, (fx * X) / Z + cx, (fy * Y) / Z + cy) * Z) / this.frame.focal;
    const cap = this.proportions.inflation * this.frame.scale;
    const half = inward <= 0 ? 0 : Math.min(cap, Math.sqrt(inward * (2 * cap)));
    return Math.abs(Z - Zc) - half;
  }

  /**
   * Widens and heightens the cranium to the matte's outline at the head's depth (big hair), never
   * below the generic proportions.
   */
  private fitCraniumToMatte(inside: Uint8Array): [number, number, number] {
    const p = this.proportions;
    const f = this.frame;
    const { fx, fy, cx, cy } = this.camera.intrinsics;
    const m = f.world2cam;
    const project = (q: [number, number, number]): [number, number] => {
      const w = [0, 1, 2].map((k) => f.centre[k] + f.scale * q[k]);
      const X = m[0] * w[0] + m[1] * w[1] + m[2] * w[2] + m[3];
      const Y = m[4] * w[0] + m[5] * w[1] + m[6] * w[2] + m[7];
      const Z = m[8] * w[0] + m[9] * w[1] + m[10] * w[2] + m[11];
      return [(fx * X) / Z + cx, (fy * Y) / Z + cy];
    };
    const [u0, v0] = project(p.craniumCentre);
    const [u1] = project([p.craniumCentre[0] + 1, p.craniumCentre[1], p.craniumCentre[2]]);
    const [, v1] = project([p.craniumCentre[0], p.craniumCentre[1] + 1, p.craniumCentre[2]]);
    const pxPerUnitX = Math.abs(u1 - u0), pxPerUnitY = Math.abs(v1 - v0);
    const row = Math.round(v0), column = Math.round(u0);
    const at = (i: number, j: number) => i >= 0 && j >= 0 && i < this.width && j < this.height && inside[j * this.width + i] === 1;
    let left = column, right = column, top = row;
    while (at(left - 1, row)) left--;
    while (at(right + 1, row)) right++;
    while (at(column, top - 1)) top--;
    const halfWidth = Math.max(u0 - left, right - u0) / pxPerUnitX;
    const up = (v0 - top) / pxPerUnitY;
    const rx = Math.min(0.3, Math.max(p.craniumRadii[0], halfWidth));
    const ry = Math.min(0.4, Math.max(p.craniumRadii[1], up));
    // Deep enough for the width, but with the back of the head inside the side views' frames.
    const back = (f.centre[2] + (0.5 * PANOHEAD_RADIUS) / PANOHEAD_FOCAL - 2 * p.orbitMargin) / f.scale + p.craniumCentre[2];
    const rz = Math.min(Math.max(p.craniumRadii[2], rx * 1.2), Math.max(back, rx));
    return [rx, ry, rz];
  }
}

/** Approximate signed distance to an axis-aligned ellipsoid (Quílez's bound). */
function ellipsoid(x: number, y: number, z: number, r: [number, number, number]): number {
  const k0 = Math.hypot(x / r[0], y / r[1], z / r[2]);
  const k1 = Math.hypot(x / (r[0] * r[0]), y / (r[1] * r[1]), z / (r[2] * r[2]));
  return k1 === 0 ? -Math.min(...r) : (k0 * (k0 - 1)) / k1;
}

function ellipse(x: number, y: number, a: number, b: number): number {
  const k0 = Math.hypot(x / a, y / b);
  const k1 = Math.hypot(x / (a * a), y / (b * b));
  return k1 === 0 ? -Math.min(a, b) : (k0 * (k0 - 1)) / k1;
}

/** Polynomial smooth maximum (rounded intersection) with blend radius k. */
function smoothMax(a: number, b: number, k: number): number {
  return -smoothMin(-a, -b, k);
}

/** Polynomial smooth minimum with blend radius k. */
function smoothMin(a: number, b: number, k: number): number {
  const h = Math.max(k - Math.abs(a - b), 0) / k;
  return Math.min(a, b) - (h * h * k) / 4;
}
