import { join } from 'node:path';
import { type Camera, PANOHEAD_FOCAL, PANOHEAD_RADIUS, normalisedIntrinsics, orbitPose, panoheadOrbit } from '../core/camera.js';
import { writePng } from '../core/image.js';
import { writeTransformsJson, type ViewFrame } from '../core/transforms-json.js';
import { type TexturedMesh } from './mesh.js';
import { rasterize } from './rasterizer.js';

export interface RenderViewsOptions {
  /** Output image size in pixels (square). */
  size?: number;
  /** Frames per ring. */
  frames?: number;
  /** Extra rings at these elevations in degrees, besides the equator. */
  elevations?: number[];
  /** Held-out views between the rings, written to `holdout/`. */
  holdout?: number;
  supersample?: number;
  /** Extra top-level fields recorded in each transforms.json. */
  metadata?: Record<string, unknown>;
  onProgress?: (done: number, total: number) => void;
}

export const RENDER_VIEWS_DEFAULTS = { size: 512, frames: 32, elevations: [] as number[], holdout: 0, supersample: 3 };

export interface RenderedViewSet {
  transformsPath: string;
  holdoutTransformsPath: string | null;
  views: number;
  holdoutViews: number;
}

interface PlannedView {
  camera: Camera;
  filePath: string;
  holdout: boolean;
}

/** Cameras of the view set: the PanoHead orbit (frame 0 frontal), extra rings, and held-out views. */
export function planViews(options: RenderViewsOptions = {}): PlannedView[] {
  const { size, frames, elevations, holdout } = { ...RENDER_VIEWS_DEFAULTS, ...options };
  const planned: PlannedView[] = [];
  const pad = (k: number) => String(k).padStart(3, '0');
  panoheadOrbit({ frames, size }).forEach((camera, k) => planned.push({ camera, filePath: `frame_${pad(k)}.png`, holdout: false }));
  for (const elevation of elevations) {
    panoheadOrbit({ frames, size, elevationDeg: elevation }).forEach((camera, k) =>
      planned.push({ camera, filePath: `elev${elevation}_${pad(k)}.png`, holdout: false }),
    );
  }
  // Held-out views: golden-angle yaws, which never land on the orbit's 360/n grid, and
  // elevations spread over -15°..+25°.
  const golden = 180 * (3 - Math.sqrt(5));
  for (let k = 0; k < holdout; k++) {
    const yaw = ((k * golden + 180 / frames) * Math.PI) / 180;
    const elevation = ((-15 + (40 * (k + 0.5)) / holdout) * Math.PI) / 180;
    planned.push({
      camera: { intrinsics: normalisedIntrinsics(PANOHEAD_FOCAL, size, size), cam2world: orbitPose(yaw, elevation, PANOHEAD_RADIUS) },
      filePath: `holdout/holdout_${pad(k)}.png`,
      holdout: true,
    });
  }
  return planned;
}

/**
 * Renders a mesh that is already in PanoHead's world into a view set: RGBA PNGs (alpha =
 * coverage) and transforms.json, plus holdout/transforms.json for held-out views. Each
 * transforms.json is written last, so a directory with one holds complete images.
 */
export async function renderViews(mesh: TexturedMesh, outDir: string, options: RenderViewsOptions = {}): Promise<RenderedViewSet> {
  const supersample = options.supersample ?? RENDER_VIEWS_DEFAULTS.supersample;
  const planned = planViews(options);
  const train: ViewFrame[] = [];
  const held: ViewFrame[] = [];
  let pendingWrite: Promise<void> = Promise.resolve();
  for (let i = 0; i < planned.length; i++) {
    const view = planned[i];
    const image = rasterize(mesh, view.camera, { supersample });
    await pendingWrite; // encode the previous PNG while rasterizing this one
    pendingWrite = writePng(join(outDir, view.filePath), image);
    (view.holdout ? held : train).push({ camera: view.camera, filePath: view.filePath });
    options.onProgress?.(i + 1, planned.length);
  }
  await pendingWrite;
  const metadata = { ...options.metadata };
  const transformsPath = join(outDir, 'transforms.json');
  await writeTransformsJson(transformsPath, { baseDir: outDir, frames: train }, metadata);
  let holdoutTransformsPath: string | null = null;
  if (held.length > 0) {
    holdoutTransformsPath = join(outDir, 'holdout', 'transforms.json');
    await writeTransformsJson(holdoutTransformsPath, { baseDir: outDir, frames: held }, metadata);
  }
  return { transformsPath, holdoutTransformsPath, views: train.length, holdoutViews: held.length };
}
