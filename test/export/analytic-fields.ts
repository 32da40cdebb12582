/**
 * Analytic radiance fields for the exporter tests: density is a smooth step of a signed distance
 * (σ = peak / (1 + e^{d/width})), so the surface σ = peak/2 is exactly the shape's zero set, and
 * colour is a smooth procedural pattern in sRGB display values.
 */
import type { FieldSampler } from '../../src/export/field-sampler.js';

export type Vec3 = [number, number, number];

export interface Ellipsoid {
  centre: Vec3;
  radii: Vec3;
}

export const DEFAULT_PEAK = 50; // σ at the centre of the shell; the exporters' default iso is 25 = peak/2
export const DEFAULT_WIDTH = 0.004;

/** A smooth colour pattern (values in [0.1, 0.9]) that varies over a few centimetres. */
export function patternColor(x: number, y: number, z: number, out: Float32Array, o: number): void {
  out[o] = 0.5 + 0.4 * Math.sin(9 * x + 2) * Math.cos(7 * y);
  out[o + 1] = 0.5 + 0.4 * Math.sin(8 * y + 5 * z);
  out[o + 2] = 0.5 + 0.4 * Math.cos(10 * z - 4 * x + 1);
}

/** Approximate signed distance to an ellipsoid: exact zero set, exact for spheres. */
export function ellipsoidDistance(e: Ellipsoid, x: number, y: number, z: number): number {
  const u = (x - e.centre[0]) / e.radii[0], v = (y - e.centre[1]) / e.radii[1], w = (z - e.centre[2]) / e.radii[2];
  return (Math.sqrt(u * u + v * v + w * w) - 1) * Math.min(...e.radii);
}

/** Smooth union (polynomial smooth-min) of signed distances. */
function smoothMin(a: number, b: number, k: number): number {
  const h = Math.max(k - Math.abs(a - b), 0) / k;
  return Math.min(a, b) - (h * h * k) / 4;
}

export interface AnalyticFieldOptions {
  peak?: number;
  width?: number;
  bounds?: number;
  /** Count density/colour calls and points (to check empty-space skipping). */
  counter?: { densityPoints: number; colorPoints: number };
  /** Provide `occupied` from the distance: true within 0.05 units of the surface or inside. */
  occupancy?: boolean;
}

export function fieldFromDistance(distance: (x: number, y: number, z: number) => number, options: AnalyticFieldOptions = {}): FieldSampler {
  const peak = options.peak ?? DEFAULT_PEAK;
  const width = options.width ?? DEFAULT_WIDTH;
  const b = options.bounds ?? 0.5;
  const counter = options.counter;
  const field: FieldSampler = {
    boundsMin: [-b, -b, -b],
    boundsMax: [b, b, b],
    density(xyz, count, out) {
      if (counter) counter.densityPoints += count;
      for (let i = 0; i < count; i++) {
        const x = xyz[i * 3], y = xyz[i * 3 + 1], z = xyz[i * 3 + 2];
        if (Math.abs(x) > b || Math.abs(y) > b || Math.abs(z) > b) {
          out[i] = 0;
          continue;
        }
        out[i] = peak / (1 + Math.exp(Math.min(60, distance(x, y, z) / width)));
      }
    },
    color(xyz, count, out) {
      if (counter) counter.colorPoints += count;
      for (let i = 0; i < count; i++) patternColor(xyz[i * 3], xyz[i * 3 + 1], xyz[i * 3 + 2], out, i * 3);
    },
  };
  if (options.occupancy) field.occupied = (x, y, z) => distance(x, y, z) < 0.05;
  return field;
}

export function ellipsoidField(e: Ellipsoid, options: AnalyticFieldOptions = {}): FieldSampler {
  return fieldFromDistance((x, y, z) => ellipsoidDistance(e, x, y, z), options);
}

/** Parts of a rough head in PanoHead's world (centre at the origin, crown at y ≈ 0.275, face toward +Z). */
export const HEAD_PARTS: Ellipsoid[] = [
  { centre: [0, 0.05, -0.01], radii: [0.17, 0.21, 0.2] }, // cranium
  { centre: [0, -0.08, 0.06], radii: [0.13, 0.16, 0.14] }, // face and jaw
  { centre: [0, -0.02, 0.2], radii: [0.025, 0.05, 0.04] }, // nose
  { centre: [0.17, -0.01, -0.01], radii: [0.02, 0.06, 0.035] }, // left ear
  { centre: [-0.17, -0.01, -0.01], radii: [0.02, 0.06, 0.035] }, // right ear
  { centre: [0, -0.3, -0.02], radii: [0.08, 0.14, 0.08] }, // neck
];

/** A "head": smooth union of ellipsoids, plus a small floater in front of it for cleanup tests. */
export function headLikeField(options: AnalyticFieldOptions & { floater?: boolean } = {}): FieldSampler {
  const floater: Ellipsoid = { centre: [0.25, 0.25, 0.3], radii: [0.02, 0.02, 0.02] };
  return fieldFromDistance((x, y, z) => {
    let d = Infinity;
    for (const part of HEAD_PARTS) d = Number.isFinite(d) ? smoothMin(d, ellipsoidDistance(part, x, y, z), 0.03) : ellipsoidDistance(part, x, y, z);
    if (options.floater) d = Math.min(d, ellipsoidDistance(floater, x, y, z));
    return d;
  }, options);
}
