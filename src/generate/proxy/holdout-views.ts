import { join } from 'node:path';
import { PANOHEAD_ORBIT_FRAMES, panoheadOrbit } from '../../core/camera.js';
import { writePng } from '../../core/image.js';
import { writeTransformsJson } from '../../core/transforms-json.js';
import type { TexturedMesh } from '../../eval/mesh.js';
import { rasterize } from '../../eval/rasterizer.js';

export interface HoldoutViewsOptions {
  /** How many held-out views (evenly spread in yaw). */
  count: number;
  size: number;
  supersample?: number;
  metadata?: Record<string, unknown>;
}

/**
 * Held-out views that score a fit on what the orbit constrains: `count` cameras on the orbit's own
 * circle (elevation 0), each half-way between two of the 32 orbit frames (yaw offset 5.625°) and
 * spread evenly around the head (4 views: front, left, back, right). Views above or below the
 * orbit would mostly score extrapolation, which 32 equatorial views leave free. Writes
 * `<outDir>/holdout/holdout_NNN.png` and, last, `<outDir>/holdout/transforms.json`.
 *
 * @example
 * await renderHoldoutViews(proxy.mesh, 'work/views', { count: 4, size: 128 });
 */
export async function renderHoldoutViews(mesh: TexturedMesh, outDir: string, options: HoldoutViewsOptions): Promise<string> {
  const cameras = panoheadOrbit({ frames: options.count, size: options.size, startYawDeg: 180 / PANOHEAD_ORBIT_FRAMES });
  const frames = [];
  for (const [k, camera] of cameras.entries()) {
    const filePath = `holdout/holdout_${String(k).padStart(3, '0')}.png`;
    await writePng(join(outDir, filePath), rasterize(mesh, camera, { supersample: options.supersample ?? 3 }));
    frames.push({ camera, filePath });
  }
  const transformsPath = join(outDir, 'holdout', 'transforms.json');
  await writeTransformsJson(transformsPath, { baseDir: outDir, frames }, { ...options.metadata, holdout: 'orbit-midpoints' });
  return transformsPath;
}
