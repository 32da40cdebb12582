import { describe, expect, it } from 'vitest';
import { type Camera, normalisedIntrinsics, orbitPose, PANOHEAD_FOCAL } from '../../src/core/camera.js';
import { visiblePoints } from '../../src/eval/visible-points.js';
import { sampleSurfacePoints } from '../../src/eval/chamfer.js';
import type { DensityGrid } from '../../src/export/mesh/density-grid.js';
import { marchingCubes } from '../../src/export/mesh/marching-cubes.js';
import { surfaceDepths } from '../../src/export/mesh/surface-depth.js';
import { forEachTexelSample } from '../../src/export/mesh/texel-samples.js';
import { dilateTexels, resizeBilinear } from '../../src/export/mesh/texture-fill.js';
import type { AtlasMesh } from '../../src/export/mesh/uv-atlas.js';
import { axisVisibility, cellAlpha } from '../../src/export/mesh/visibility.js';

/** A grid over [−0.1, 0.1]³ whose density is `sigma(x, y, z)` at every vertex. */
function gridOf(n: number, sigma: (x: number, y: number, z: number) => number): DensityGrid {
  const spacing = 0.2 / (n - 1);
  const origin: [number, number, number] = [-0.1, -0.1, -0.1];
  const values = new Float32Array(n * n * n);
  for (let k = 0; k < n; k++) for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) values[i + n * (j + n * k)] = sigma(origin[0] + i * spacing, origin[1] + j * spacing, origin[2] + k * spacing);
  return { nx: n, ny: n, nz: n, origin, spacing, values };
}

describe('surfaceDepths', () => {
  it('finds where a head-on ray through a half-space reaches half transmittance', () => {
    const S = 400; // σ inside z < 0: transmittance one half at ln 2 / S = 1.7 mm below the boundary
    const grid = gridOf(81, (_x, _y, z) => (z < 0 ? S : 0));
    const positions = Float32Array.from([0, 0, 0.004, 0.013, -0.021, 0.001]);
    const normals = Float32Array.from([0, 0, 1, 0, 0, 1]);
    const depths = surfaceDepths(grid, positions, normals, { outside: 2, inside: 6 });
    // The vertex at z = 0 is empty, so trilinear interpolation ramps σ up over the cell below it:
    // the effective boundary sits half a cell down.
    const boundary = -grid.spacing / 2;
    expect(depths[0]).toBeCloseTo(boundary - 0.004 - Math.log(2) / S, 4);
    expect(depths[1]).toBeCloseTo(boundary - 0.001 - Math.log(2) / S, 4);
  });

  it('leaves vertices whose march never gets opaque where they are', () => {
    const grid = gridOf(41, () => 1);
    const depths = surfaceDepths(grid, Float32Array.from([0, 0, 0]), Float32Array.from([0, 1, 0]));
    expect(depths[0]).toBe(0);
  });
});

describe('axisVisibility', () => {
  it('matches a direct march along each axis', () => {
    const grid = gridOf(9, (x, y, z) => 300 * Math.max(0, 0.05 - Math.hypot(x, y - 0.02, z)) + (x > 0.05 ? 20 : 0));
    const alpha = cellAlpha(grid);
    const visibility = axisVisibility(grid, alpha);
    const n = 9;
    for (let k = 0; k < n; k++) {
      for (let j = 0; j < n; j++) {
        for (let i = 0; i < n; i++) {
          const along = (di: number, dj: number, dk: number): number => {
            let t = 1;
            for (let a = i - di, b = j - dj, c = k - dk; a >= 0 && b >= 0 && c >= 0 && a < n && b < n && c < n; a -= di, b -= dj, c -= dk) t *= 1 - alpha[a + n * (b + n * c)];
            return t;
          };
          const expected = Math.max(along(1, 0, 0), along(-1, 0, 0), along(0, 1, 0), along(0, -1, 0), along(0, 0, 1), along(0, 0, -1));
          expect(visibility[i + n * (j + n * k)]).toBeCloseTo(expected, 6);
        }
      }
    }
  });
});

describe('texture fill', () => {
  it('resizes bilinearly: constants and ramps survive, texel centres aligned', () => {
    const from = 4, to = 8;
    const rgb = new Float32Array(from * from * 3);
    for (let y = 0; y < from; y++) for (let x = 0; x < from; x++) rgb.set([0.5, x, y], (x + y * from) * 3);
    const out = resizeBilinear(rgb, from, to);
    for (let y = 0; y < to; y++) {
      for (let x = 0; x < to; x++) {
        const o = (x + y * to) * 3;
        expect(out[o]).toBeCloseTo(0.5, 6);
        expect(out[o + 1]).toBeCloseTo(Math.min(from - 1, Math.max(0, (x + 0.5) / 2 - 0.5)), 6);
        expect(out[o + 2]).toBeCloseTo(Math.min(from - 1, Math.max(0, (y + 0.5) / 2 - 0.5)), 6);
      }
    }
  });

  it('dilates charts outward and fills the rest with the mean colour', () => {
    const size = 8;
    const rgb = new Float32Array(size * size * 3);
    const filled = new Uint8Array(size * size);
    rgb.set([1, 0, 0], (2 + 2 * size) * 3);
    filled[2 + 2 * size] = 1;
    dilateTexels(rgb, filled, size, 1);
    expect(Array.from(rgb.subarray((3 + 3 * size) * 3, (3 + 3 * size) * 3 + 3))).toEqual([1, 0, 0]);
    expect(Array.from(rgb.subarray((7 + 7 * size) * 3, (7 + 7 * size) * 3 + 3))).toEqual([1, 0, 0]); // beyond the ring: the mean
    expect(filled[7 + 7 * size]).toBe(0);
  });
});

describe('forEachTexelSample', () => {
  it('visits each covered texel once with the interpolated point, normal and offset', () => {
    // One quad over the whole texture, in the plane z = 0 with normal +z, offsets −0.01.
    const mesh: AtlasMesh = {
      positions: Float32Array.from([0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 1, 0]),
      uvs: Float32Array.from([0, 0, 1, 0, 1, 1, 0, 1]),
      indices: Uint32Array.from([0, 1, 2, 0, 2, 3]),
      sourceVertex: Uint32Array.from([0, 1, 2, 3]),
      charts: 1,
      utilization: 1,
    };
    const size = 16;
    const seen = new Uint8Array(size * size);
    const covered = forEachTexelSample(mesh, size, { normals: Float32Array.from(Array(4).fill([0, 0, 1]).flat()), offsets: new Float32Array(4).fill(-0.01), batchSize: 37 }, (batch) => {
      for (let i = 0; i < batch.count; i++) {
        const t = batch.texels[i];
        seen[t]++;
        const x = t % size, y = (t - x) / size;
        expect(batch.points[i * 3]).toBeCloseTo((x + 0.5) / size, 5);
        expect(batch.points[i * 3 + 1]).toBeCloseTo((y + 0.5) / size, 5);
        expect(batch.points[i * 3 + 2]).toBeCloseTo(-0.01, 6);
        expect(batch.normals[i * 3 + 2]).toBeCloseTo(1, 6);
      }
    });
    expect(seen.every((n) => n === 1)).toBe(true);
    expect(covered.every((c) => c === 1)).toBe(true);
  });
});

describe('visiblePoints', () => {
  it('keeps the outer surface the cameras see and drops a closed inner one', () => {
    const sphere = (radius: number): { positions: Float32Array; indices: Uint32Array } => {
      const grid = gridOf(41, (x, y, z) => radius - Math.hypot(x, y, z));
      return marchingCubes(grid, 0);
    };
    const outer = sphere(0.08), inner = sphere(0.04);
    const offset = outer.positions.length / 3;
    const both = {
      positions: Float32Array.from([...outer.positions, ...inner.positions]),
      indices: Uint32Array.from([...outer.indices, ...Array.from(inner.indices, (i) => i + offset)]),
    };
    const cameras: Camera[] = [0, 90, 180, 270].flatMap((yaw) => [-30, 30].map((elevation) => ({
      intrinsics: normalisedIntrinsics(PANOHEAD_FOCAL, 96, 96), cam2world: orbitPose((yaw * Math.PI) / 180, (elevation * Math.PI) / 180),
    })));
    const outerPoints = sampleSurfacePoints(outer.positions, outer.indices, 2000, 1);
    const innerPoints = sampleSurfacePoints(inner.positions, inner.indices, 2000, 2);
    expect(visiblePoints(outerPoints, both, cameras).length / 3).toBeGreaterThan(1990);
    expect(visiblePoints(innerPoints, both, cameras).length).toBe(0);
  });
});
