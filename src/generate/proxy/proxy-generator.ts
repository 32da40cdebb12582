import { join } from 'node:path';
import type { Camera } from '../../core/camera.js';
import type { RgbaImage } from '../../core/image.js';
import { writePng } from '../../core/image.js';
import type { TexturedMesh } from '../../eval/mesh.js';
import { rasterize } from '../../eval/rasterizer.js';
import { type RenderedViewSet, renderViews } from '../../eval/render-views.js';
import type { CropLandmark } from './head-frame.js';
import { renderHoldoutViews } from './holdout-views.js';
import { type HeadProportions, HeadShape } from './head-shape.js';
import { type Palette, samplePalette } from './palette.js';
import { type ProxyMeshOptions, buildProxyMesh } from './proxy-mesh.js';

/** What the proxy generator lifts: preprocess's crop (alpha = matte), its camera and the face landmarks in crop pixels. */
export interface ProxyInput {
  crop: RgbaImage;
  camera: Camera;
  landmarks: CropLandmark[];
}

export interface ProxyOptions extends ProxyMeshOptions {
  proportions?: Partial<HeadProportions>;
}

/** The lifted head: a textured mesh in PanoHead's world and what went into it. */
export interface HeadProxy {
  mesh: TexturedMesh;
  shape: HeadShape;
  palette: Palette;
  triangles: number;
  seconds: number;
}

/**
 * The embedded, weight-free generator's first half: lifts the crop onto a parametric head fitted
 * to the landmarks and the matte, textured from the photo and the portrait's own palette.
 *
 * @example
 * const proxy = await buildHeadProxy({ crop, camera, landmarks });
 * const image = rasterize(proxy.mesh, camera); // ≈ the crop
 */
export async function buildHeadProxy(input: ProxyInput, options: ProxyOptions = {}): Promise<HeadProxy> {
  const started = performance.now();
  options.onStep?.('fitting the head proxy');
  const shape = new HeadShape(input.crop, input.camera, input.landmarks, options.proportions);
  const palette = samplePalette(input.crop, input.landmarks);
  const { mesh, triangles } = await buildProxyMesh(shape, input.crop, input.camera, palette, options);
  return { mesh, shape, palette, triangles, seconds: (performance.now() - started) / 1000 };
}

export interface ProxyViewsOptions extends ProxyOptions {
  /** View size in pixels (default 512, DiffPortrait360's). */
  size?: number;
  /** Held-out views rendered into `holdout/` for scoring the fit, on the orbit between its frames (default 0). */
  holdout?: number;
  /** Anti-aliasing samples per axis (default 3). */
  supersample?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface ProxyViewsResult extends RenderedViewSet {
  triangles: number;
  palette: Palette;
  seconds: { proxy: number; render: number };
}

/**
 * The proxy generator: builds the head proxy and renders PanoHead's 32-view orbit (frame 0
 * frontal) plus optional held-out views with the same renderer and transforms.json as
 * `render-views`, so the fit cannot tell these views from the diffusion generator's. Also writes
 * `input-view.png`, the proxy seen from the input camera (the crop's look-alike).
 */
export async function generateProxyViews(input: ProxyInput, outDir: string, options: ProxyViewsOptions = {}): Promise<ProxyViewsResult> {
  const proxy = await buildHeadProxy(input, options);
  const started = performance.now();
  options.onStep?.('rendering the orbit');
  await writePng(join(outDir, 'input-view.png'), rasterize(proxy.mesh, input.camera, { supersample: 2 }));
  const size = options.size ?? 512;
  const supersample = options.supersample ?? 3;
  const metadata = { head3d: { generator: 'proxy', world: 'panohead' } };
  const rendered = await renderViews(proxy.mesh, outDir, { size, supersample, metadata, onProgress: options.onProgress });
  const holdout = options.holdout ?? 0;
  if (holdout > 0) {
    rendered.holdoutTransformsPath = await renderHoldoutViews(proxy.mesh, outDir, { count: holdout, size, supersample, metadata });
    rendered.holdoutViews = holdout;
  }
  return { ...rendered, triangles: proxy.triangles, palette: proxy.palette, seconds: { proxy: proxy.seconds, render: (performance.now() - started) / 1000 } };
}
