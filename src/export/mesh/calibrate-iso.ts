import { Head3dError } from '../../core/errors.js';
import type { FieldSampler } from '../field-sampler.js';

export interface IsoCalibrationOptions {
  /** Rays cast at the head (default 1024). */
  rays?: number;
  /** Sample spacing along each ray (default `field.marchStep`, else √3/256 of the bounds' longest side). */
  step?: number;
  /** Transmittance at which a ray is said to reach the surface (default 0.5). */
  transmittance?: number;
  /** Lowest camera elevation in degrees; rays from further below (the neck cap) are not cast (default −35). */
  minElevation?: number;
}

export const ISO_CALIBRATION_DEFAULTS = { rays: 1024, transmittance: 0.5, minElevation: -35 };

export interface IsoCalibration {
  /** The median density where the rays' transmittance crossed the threshold: the iso level. */
  iso: number;
  /** Rays that reached the threshold (the others missed the head). */
  hits: number;
  /** Quartiles of the crossing densities, a measure of how sharp the field's surface is. */
  quartiles: [number, number];
  step: number;
}

/**
 * Finds the density of the surface the field actually renders. Rays from a sphere around the
 * bounds (directions spread evenly, elevations above `minElevation`, aimed within 0.15 of the
 * bounds' size around the centre) are marched as the renderer marches them — samples `step`
 * apart, alpha = 1 − e^{−σ·step}, empty cells skipped through `occupied` — to the point where the
 * transmittance falls to `transmittance` (0.5: the pixel is half covered there, the edge of the
 * rendered silhouette and the median depth of the ray); the density there is read off the
 * field. The median over all rays is the iso level at which marching cubes reproduces the
 * rendered surface. For a hard surface the answer hardly depends on the threshold; for a soft
 * one it picks the depth a viewer sees.
 *
 * @example
 * const { iso } = calibrateIso(field); // then exportMesh(field, { iso })
 */
export function calibrateIso(field: FieldSampler, options: IsoCalibrationOptions = {}): IsoCalibration {
  const o = { ...ISO_CALIBRATION_DEFAULTS, ...options };
  const min = field.boundsMin, max = field.boundsMax;
  const centre = [0, 1, 2].map((k) => (min[k] + max[k]) / 2);
  const extent = Math.max(max[0] - min[0], max[1] - min[1], max[2] - min[2]);
  const step = o.step ?? field.marchStep ?? (Math.sqrt(3) / 256) * extent;
  const radius = (Math.sqrt(3) / 2) * extent;
  const samplesPerRay = Math.ceil((2 * radius) / step);
  const threshold = -Math.log(o.transmittance);

  // Ray origins and directions: a Fibonacci spiral over the allowed band of elevations.
  const rays = o.rays;
  const origins = new Float64Array(rays * 3), directions = new Float64Array(rays * 3);
  const lowest = Math.sin((o.minElevation * Math.PI) / 180);
  const golden = Math.PI * (3 - Math.sqrt(5));
  for (let r = 0; r < rays; r++) {
    const y = 1 - ((r + 0.5) / rays) * (1 - lowest);
    const ring = Math.sqrt(1 - y * y);
    const phi = r * golden;
    const from = [ring * Math.cos(phi), y, ring * Math.sin(phi)];
    // Aim off-centre (another spiral in the plane facing the ray) so rays meet the surface at many angles.
    const aimRadius = 0.15 * extent * Math.sqrt((r * 0.618034) % 1);
    const aimAngle = r * 2.399963;
    const u = normalise(cross(from, Math.abs(from[1]) < 0.9 ? [0, 1, 0] : [1, 0, 0]));
    const v = cross(from, u);
    const target = [0, 1, 2].map((k) => centre[k] + aimRadius * (Math.cos(aimAngle) * u[k] + Math.sin(aimAngle) * v[k]));
    const origin = [0, 1, 2].map((k) => centre[k] + radius * from[k]);
    const d = normalise([0, 1, 2].map((k) => target[k] - origin[k]));
    for (let k = 0; k < 3; k++) {
      origins[r * 3 + k] = origin[k];
      directions[r * 3 + k] = d[k];
    }
  }

  // Density at every occupied sample of every ray, in one batch.
  const index = new Int32Array(rays * samplesPerRay).fill(-1);
  const points: number[] = [];
  for (let r = 0; r < rays; r++) {
    for (let s = 0; s < samplesPerRay; s++) {
      const t = (s + 0.5) * step;
      const x = origins[r * 3] + t * directions[r * 3], y = origins[r * 3 + 1] + t * directions[r * 3 + 1], z = origins[r * 3 + 2] + t * directions[r * 3 + 2];
      if (x < min[0] || y < min[1] || z < min[2] || x > max[0] || y > max[1] || z > max[2]) continue;
      if (field.occupied && !field.occupied(x, y, z)) continue;
      index[r * samplesPerRay + s] = points.length / 3;
      points.push(x, y, z);
    }
  }
  const sigma = evaluate(field, Float32Array.from(points));

  // Where each ray's optical depth passes −ln(transmittance): interpolate within that sample's step.
  const crossing: number[] = [];
  for (let r = 0; r < rays; r++) {
    let depth = 0;
    for (let s = 0; s < samplesPerRay; s++) {
      const i = index[r * samplesPerRay + s];
      if (i < 0) continue;
      const next = depth + sigma[i] * step;
      if (next >= threshold) {
        const t = (s + (threshold - depth) / (next - depth)) * step;
        for (let k = 0; k < 3; k++) crossing.push(origins[r * 3 + k] + t * directions[r * 3 + k]);
        break;
      }
      depth = next;
    }
  }
  const hits = crossing.length / 3;
  if (hits < Math.max(8, rays * 0.05)) {
    throw new Head3dError(`export: only ${hits} of ${rays} rays reach an opaque surface; the field holds no head to extract`, {
      hint: 'check that the field was fitted (head3d eval)',
    });
  }
  const atCrossing = Array.from(evaluate(field, Float32Array.from(crossing))).sort((a, b) => a - b);
  const quantile = (q: number) => atCrossing[Math.min(hits - 1, Math.floor(q * hits))];
  return { iso: quantile(0.5), hits, quartiles: [quantile(0.25), quantile(0.75)], step };
}

function evaluate(field: FieldSampler, xyz: Float32Array): Float32Array {
  const out = new Float32Array(xyz.length / 3);
  if (out.length > 0) field.density(xyz, out.length, out);
  return out;
}

function cross(a: number[], b: number[]): number[] {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}

function normalise(v: number[]): number[] {
  const length = Math.hypot(v[0], v[1], v[2]) || 1;
  return v.map((x) => x / length);
}
