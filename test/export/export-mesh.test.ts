import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Camera, normalisedIntrinsics, orbitPose, PANOHEAD_FOCAL } from '../../src/core/camera.js';
import { Head3dError } from '../../src/core/errors.js';
import { gltfIO } from '../../src/core/gltf-io.js';
import type { RgbaImage } from '../../src/core/image.js';
import { loadTexturedMesh } from '../../src/eval/load-mesh.js';
import { METRES_PER_UNIT, PANOHEAD_HEAD_HEIGHT } from '../../src/eval/normalize-head.js';
import { rasterize } from '../../src/eval/rasterizer.js';
import { exportMeshGlb } from '../../src/export/export-mesh-glb.js';
import { validateGlb } from '../../src/export/gltf/validate.js';
import { type Ellipsoid, ellipsoidField, headLikeField, patternColor } from './analytic-fields.js';

const dir = mkdtempSync(join(tmpdir(), 'head3d-export-mesh-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Small settings so each export takes a second or two. */
const FAST = { resolution: 96, triangles: 4000, textureSize: 512 } as const;

function glbJson(bytes: Uint8Array): any {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getUint32(12, true);
  return JSON.parse(new TextDecoder().decode(bytes.subarray(20, 20 + length)));
}

describe('exportMeshGlb', () => {
  it.each([
    ['meshopt', 'png'],
    ['draco', 'webp'],
    ['none', 'png'],
  ] as const)('writes a valid glb with %s geometry and %s texture, LODs 100/50/25 percent, metres and pivot', async (compress, textureFormat) => {
    const path = join(dir, `head-${compress}.glb`);
    const result = await exportMeshGlb(headLikeField({ floater: true }), path, { ...FAST, compress, textureFormat, pivot: 'neck' });
    const bytes = new Uint8Array(await readFile(path));
    const validation = await validateGlb(bytes);
    expect(validation.errors, validation.messages.join('\n')).toBe(0);
    expect(validation.warnings, validation.messages.join('\n')).toBe(0);
    expect(result.triangles[0]).toBeLessThanOrEqual(FAST.triangles);
    expect(result.triangles[0]).toBeGreaterThan(FAST.triangles * 0.95);
    expect(result.triangles[1]).toBeLessThanOrEqual(Math.floor(result.triangles[0] * 0.5));
    expect(result.triangles[2]).toBeLessThanOrEqual(Math.floor(result.triangles[0] * 0.25));
    expect(result.triangles[2]).toBeGreaterThan(result.triangles[0] * 0.2);
    expect(result.mesh.stats.components).toBe(2); // the floater was found and dropped

    const json = glbJson(bytes);
    expect(json.scenes[json.scene].nodes).toHaveLength(1);
    const root = json.nodes[json.scenes[json.scene].nodes[0]];
    expect(root.extensions.MSFT_lod.ids.map((id: number) => json.nodes[id].name)).toEqual(['head_LOD1', 'head_LOD2']);
    expect(json.materials).toHaveLength(1);
    expect(json.materials[0].pbrMetallicRoughness).toMatchObject({ metallicFactor: 0, roughnessFactor: 0.8 });
    expect(json.images[0].mimeType).toBe(textureFormat === 'png' ? 'image/png' : 'image/webp');
    if (compress === 'meshopt') expect(json.extensionsRequired).toContain('EXT_meshopt_compression');
    if (compress === 'draco') expect(json.extensionsRequired).toContain('KHR_draco_mesh_compression');

    // Read back: metres, neck pivot (origin at the base of the head), crown 0.55 units above it.
    const document = await (await gltfIO()).read(path);
    const lod0 = document.getRoot().listMeshes()[0].listPrimitives()[0];
    const bounds = { min: [Infinity, Infinity, Infinity], max: [-Infinity, -Infinity, -Infinity] };
    const node = document.getRoot().listNodes().find((n) => n.getName() === 'head')!;
    const world = node.getWorldMatrix();
    const p = [0, 0, 0];
    for (let i = 0; i < lod0.getAttribute('POSITION')!.getCount(); i++) {
      lod0.getAttribute('POSITION')!.getElement(i, p);
      const q = [0, 1, 2].map((k) => world[k] * p[0] + world[4 + k] * p[1] + world[8 + k] * p[2] + world[12 + k]);
      for (let k = 0; k < 3; k++) {
        bounds.min[k] = Math.min(bounds.min[k], q[k]);
        bounds.max[k] = Math.max(bounds.max[k], q[k]);
      }
    }
    const crown = (0.05 + 0.21 + PANOHEAD_HEAD_HEIGHT / 2) * METRES_PER_UNIT; // cranium top above the neck pivot
    expect(bounds.max[1]).toBeCloseTo(crown, 2);
    expect(bounds.max[2]).toBeCloseTo(0.24 * METRES_PER_UNIT, 2); // nose tip, face toward +Z
  });

  it('bakes a texture that, rasterized from the glb, reproduces the analytic colour', async () => {
    const ellipsoid: Ellipsoid = { centre: [0, 0, 0], radii: [0.18, 0.26, 0.21] };
    const path = join(dir, 'ellipsoid.glb');
    await exportMeshGlb(ellipsoidField(ellipsoid), path, { resolution: 128, triangles: 8000, textureSize: 1024, pivot: 'center', compress: 'none' });
    const mesh = await loadTexturedMesh(path);
    const size = 160;
    const scores: number[] = [];
    for (const [yaw, elevation] of [[0, 0], [100, 15], [200, -20], [290, 40]]) {
      const pose = orbitPose((yaw * Math.PI) / 180, (elevation * Math.PI) / 180);
      const camera: Camera = { intrinsics: normalisedIntrinsics(PANOHEAD_FOCAL, size, size), cam2world: pose.map((v, i) => (i % 4 === 3 && i < 12 ? v * METRES_PER_UNIT : v)) };
      const image = rasterize(mesh, camera, { supersample: 2 });
      scores.push(analyticPsnr(image, camera, ellipsoid));
    }
    console.log(`baked-texture PSNR vs analytic colour (1024² texture, 8k triangles): ${scores.map((s) => s.toFixed(1)).join(', ')} dB`);
    for (const score of scores) expect(score).toBeGreaterThan(30);
  });

  it('rejects an impossible budget before doing any work, leaving no file', async () => {
    const path = join(dir, 'impossible.glb');
    await expect(exportMeshGlb(headLikeField(), path, { ...FAST, triangles: 10 })).rejects.toThrow(Head3dError);
    await expect(exportMeshGlb(headLikeField(), path, { ...FAST, triangles: 200, lods: [1, 0.5, 0.1] })).rejects.toThrow(/last LOD/);
    await expect(exportMeshGlb(headLikeField(), path, { ...FAST, textureSize: 1000 })).rejects.toThrow(/power of two/);
    expect(existsSync(path)).toBe(false);
  });

  it('reports an unwritable output path as a Head3dError and leaves no partial file', async () => {
    const blocker = join(dir, 'not-a-directory');
    writeFileSync(blocker, 'x');
    const path = join(blocker, 'head.glb');
    await expect(exportMeshGlb(headLikeField(), path, FAST)).rejects.toThrow(Head3dError);
    expect(readdirSync(dir).filter((name) => name.includes('.tmp-'))).toEqual([]);
  });
});

/**
 * PSNR (8-bit, RGB) between a render and the analytic colour at the ray–ellipsoid hit of each
 * pixel centre, over pixels the render covers fully and whose ray hits the ellipsoid.
 */
function analyticPsnr(image: RgbaImage, camera: Camera, e: Ellipsoid): number {
  const { fx, fy, cx, cy, width, height } = camera.intrinsics;
  const m = camera.cam2world;
  const origin = [m[3], m[7], m[11]].map((v) => v / METRES_PER_UNIT);
  const colour = new Float32Array(3);
  let sum = 0, count = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4;
      if (image.data[o + 3] < 255) continue;
      const dc = [(x + 0.5 - cx) / fx, (y + 0.5 - cy) / fy, 1];
      const d = [0, 1, 2].map((r) => m[r * 4] * dc[0] + m[r * 4 + 1] * dc[1] + m[r * 4 + 2] * dc[2]);
      // Solve |(o + t d − c) / r|² = 1 for the nearest t.
      const oo = [0, 1, 2].map((k) => (origin[k] - e.centre[k]) / e.radii[k]);
      const dd = [0, 1, 2].map((k) => d[k] / e.radii[k]);
      const a = dd[0] ** 2 + dd[1] ** 2 + dd[2] ** 2;
      const b = 2 * (oo[0] * dd[0] + oo[1] * dd[1] + oo[2] * dd[2]);
      const c = oo[0] ** 2 + oo[1] ** 2 + oo[2] ** 2 - 1;
      const disc = b * b - 4 * a * c;
      if (disc < 0) continue;
      const t = (-b - Math.sqrt(disc)) / (2 * a);
      patternColor(origin[0] + t * d[0], origin[1] + t * d[1], origin[2] + t * d[2], colour, 0);
      for (let k = 0; k < 3; k++) sum += (image.data[o + k] / 255 - Math.round(colour[k] * 255) / 255) ** 2;
      count += 3;
    }
  }
  expect(count).toBeGreaterThan(1000);
  return 10 * Math.log10(1 / (sum / count));
}
