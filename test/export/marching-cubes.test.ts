import { describe, expect, it } from 'vitest';
import { chamferDistance, sampleSurfacePoints } from '../../src/eval/chamfer.js';
import { keepLargestComponent } from '../../src/export/mesh/components.js';
import { sampleDensityGrid } from '../../src/export/mesh/density-grid.js';
import { marchingCubes } from '../../src/export/mesh/marching-cubes.js';
import { taubinSmooth } from '../../src/export/mesh/smooth.js';
import { meshArea, meshEdgeDefects, meshSignedVolume } from '../../src/export/mesh/triangle-mesh.js';
import { DEFAULT_PEAK, type Ellipsoid, ellipsoidField, headLikeField } from './analytic-fields.js';

const ISO = DEFAULT_PEAK / 2;

/**
 * Points on an ellipsoid surface: Fibonacci directions scaled onto it. Chamfer on point samples
 * has a floor of about half the sample spacing, so tests use a few hundred thousand points.
 */
function ellipsoidPoints(e: Ellipsoid, count: number): Float32Array {
  const out = new Float32Array(count * 3);
  const golden = Math.PI * (3 - Math.sqrt(5));
  for (let i = 0; i < count; i++) {
    const y = 1 - (2 * (i + 0.5)) / count;
    const r = Math.sqrt(1 - y * y);
    const d = [Math.cos(golden * i) * r, y, Math.sin(golden * i) * r];
    for (let k = 0; k < 3; k++) out[i * 3 + k] = e.centre[k] + e.radii[k] * d[k];
  }
  return out;
}

/** Knud Thomsen's approximation of an ellipsoid's area (relative error ≤ 1.1 %; exact for spheres). */
function ellipsoidArea([a, b, c]: [number, number, number]): number {
  const p = 1.6075;
  return 4 * Math.PI * (((a * b) ** p + (a * c) ** p + (b * c) ** p) / 3) ** (1 / p);
}

describe('marching cubes', () => {
  it('meshes a sphere closed, manifold and outward, with the right area, volume and Chamfer distance', () => {
    const sphere: Ellipsoid = { centre: [0.02, -0.01, 0.03], radii: [0.3, 0.3, 0.3] };
    const grid = sampleDensityGrid(ellipsoidField(sphere), { resolution: 96 });
    const mesh = marchingCubes(grid, ISO);
    expect(meshEdgeDefects(mesh)).toEqual({ boundaryEdges: 0, nonManifoldEdges: 0 });
    const area = 4 * Math.PI * 0.09, volume = (4 / 3) * Math.PI * 0.027;
    expect(Math.abs(meshArea(mesh) / area - 1)).toBeLessThan(0.01);
    expect(Math.abs(meshSignedVolume(mesh) / volume - 1)).toBeLessThan(0.01);
    const chamfer = chamferDistance(sampleSurfacePoints(mesh.positions, mesh.indices, 300_000), ellipsoidPoints(sphere, 300_000));
    // Grid spacing is 1/96 ≈ 0.0104; the mesh stays within a few % of a cell of the sphere.
    expect(chamfer.mean).toBeLessThan(0.001); // 0.17 % of the diameter
    expect(chamfer.max).toBeLessThan(0.004);
  });

  it('meshes an ellipsoid to within 0.2 % of its size, and smoothing keeps it there', () => {
    const ellipsoid: Ellipsoid = { centre: [0, 0, 0], radii: [0.2, 0.35, 0.25] };
    const mesh = marchingCubes(sampleDensityGrid(ellipsoidField(ellipsoid), { resolution: 96 }), ISO);
    const smooth = taubinSmooth(mesh, { iterations: 3 });
    const volume = (4 / 3) * Math.PI * 0.2 * 0.35 * 0.25;
    for (const m of [mesh, smooth]) {
      expect(Math.abs(meshSignedVolume(m) / volume - 1)).toBeLessThan(0.01);
      expect(Math.abs(meshArea(m) / ellipsoidArea(ellipsoid.radii) - 1)).toBeLessThan(0.02);
      const chamfer = chamferDistance(sampleSurfacePoints(m.positions, m.indices, 300_000), ellipsoidPoints(ellipsoid, 300_000));
      console.log(`ellipsoid Chamfer ${m === mesh ? 'raw' : 'smoothed'}: mean ${chamfer.mean.toFixed(5)} max ${chamfer.max.toFixed(5)}`);
      expect(chamfer.mean).toBeLessThan(0.0015); // 0.2 % of the 0.7-unit height (measured 0.0008)
    }
  });

  it('keeps the largest component and drops floaters', () => {
    const mesh = marchingCubes(sampleDensityGrid(headLikeField({ floater: true }), { resolution: 64 }), ISO);
    const { mesh: kept, components } = keepLargestComponent(mesh);
    expect(components).toBe(2);
    expect(kept.indices.length).toBeLessThan(mesh.indices.length);
    expect(keepLargestComponent(kept).components).toBe(1);
    expect(meshEdgeDefects(kept)).toEqual({ boundaryEdges: 0, nonManifoldEdges: 0 });
  });

  it('gives the same surface with coarse-to-fine sampling and with an occupancy grid, from far fewer field queries', () => {
    const counts = [{ densityPoints: 0, colorPoints: 0 }, { densityPoints: 0, colorPoints: 0 }, { densityPoints: 0, colorPoints: 0 }];
    const full = marchingCubes(sampleDensityGrid(headLikeField({ counter: counts[0] }), { resolution: 96 }), ISO);
    const refined = marchingCubes(sampleDensityGrid(headLikeField({ counter: counts[1] }), { resolution: 96, refineAround: ISO }), ISO);
    const occupied = marchingCubes(sampleDensityGrid(headLikeField({ counter: counts[2], occupancy: true }), { resolution: 96 }), ISO);
    expect(Array.from(refined.indices)).toEqual(Array.from(full.indices));
    expect(Array.from(refined.positions)).toEqual(Array.from(full.positions));
    expect(Array.from(occupied.indices)).toEqual(Array.from(full.indices));
    expect(counts[1].densityPoints).toBeLessThan(counts[0].densityPoints / 3);
    expect(counts[2].densityPoints).toBeLessThan(counts[0].densityPoints / 2);
  });
});
