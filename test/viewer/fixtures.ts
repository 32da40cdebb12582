/**
 * Small head3d exports for the viewer tests, made with the export library from the analytic
 * head-like field (test/export/analytic-fields.ts): a meshopt mesh glb with three MSFT_lod levels, a
 * Draco + WebP one, and a KHR_gaussian_splatting glb. All use the centre pivot (head centre at the
 * origin), so cameras orbit the origin as in PanoHead's world, scaled to metres.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportMeshGlb } from '../../src/export/export-mesh-glb.js';
import { exportSplatsGlb } from '../../src/export/export-splats.js';
import { headLikeField } from '../export/analytic-fields.js';

export interface ViewerFixtures {
  dir: string;
  mesh: string;
  draco: string;
  splats: string;
  cleanup(): Promise<void>;
}

const MESH = { resolution: 64, triangles: 4000, textureSize: 256, pivot: 'center' } as const;

export async function makeViewerFixtures(): Promise<ViewerFixtures> {
  const dir = await mkdtemp(join(tmpdir(), 'head3d-viewer-'));
  const field = headLikeField();
  const mesh = join(dir, 'head.glb');
  const draco = join(dir, 'head-draco.glb');
  const splats = join(dir, 'head.splats.glb');
  await exportMeshGlb(field, mesh, { ...MESH, compress: 'meshopt' });
  await exportMeshGlb(field, draco, { ...MESH, lods: [1], compress: 'draco', textureFormat: 'webp' });
  await exportSplatsGlb(field, splats, { resolution: 48, maxSplats: 20_000, pivot: 'center' });
  return { dir, mesh, draco, splats, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
