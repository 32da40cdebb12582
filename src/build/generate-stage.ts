import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { readImage } from '../core/image.js';
import { readTransformsJson } from '../core/transforms-json.js';
import { importViews, readImportedViews } from '../generate/import/import-views.js';
import { readCropLandmarks } from '../generate/proxy/crop-landmarks.js';
import { generateProxyViews } from '../generate/proxy/proxy-generator.js';
import type { BuildContext, StageReport } from './build-context.js';
import { runStage } from './run-stage.js';
import { stageKey } from './stage-record.js';

/**
 * The generate stage with the embedded proxy: views/ holds the 32-view orbit at the preset's size,
 * views/holdout/ the held-out views that score the fit, views/input-view.png the proxy at the
 * input camera.
 */
export async function proxyGenerateStage(context: BuildContext): Promise<StageReport> {
  const w = context.workDir;
  const files = { crop: join(w, 'crop.png'), camera: join(w, 'camera.json'), landmarks: join(w, 'landmarks.json') };
  const { preset } = context;
  const options = { stage: 'generate', generator: 'proxy', version: 1, size: preset.viewSize, holdout: preset.holdout, proxy: preset.proxy };
  const key = await stageKey(files, options);
  return runStage(context, 'generate', key, async () => {
    const viewsDir = join(w, 'views');
    await rm(viewsDir, { recursive: true, force: true });
    const crop = await readImage(files.crop, 'crop.png');
    const camera = (await readTransformsJson(files.camera)).frames[0].camera;
    const landmarks = await readCropLandmarks(files.landmarks);
    const result = await generateProxyViews({ crop, camera, landmarks }, viewsDir, {
      size: preset.viewSize,
      holdout: preset.holdout,
      resolution: preset.proxy.resolution,
      triangles: preset.proxy.triangles,
      onStep: (step) => context.progress('generate', `proxy: ${step}`),
      onProgress: (done, total) => context.progress('generate', `proxy: rendering view ${done}/${total}`),
    });
    return {
      outputs: ['views/transforms.json', ...(result.holdoutTransformsPath ? ['views/holdout/transforms.json'] : [])],
      facts: { generator: 'proxy', views: result.views, holdoutViews: result.holdoutViews, proxyTriangles: result.triangles, palette: result.palette },
    };
  });
}

/** The generate stage with imported views: views/transforms.json points at them. */
export async function importGenerateStage(context: BuildContext, source: string): Promise<StageReport> {
  const { files } = await readImportedViews(source);
  const named = Object.fromEntries(files.map((f, i) => [`${i}:${f}`, f]));
  const key = await stageKey(named, { stage: 'generate', generator: 'import', version: 1 });
  return runStage(context, 'generate', key, async () => {
    const viewsDir = join(context.workDir, 'views');
    await rm(viewsDir, { recursive: true, force: true });
    context.progress('generate', `importing views from ${source}`);
    const result = await importViews(source, viewsDir);
    return { outputs: ['views/transforms.json'], facts: { generator: 'import', views: result.views, kind: result.kind, holdoutViews: 0 } };
  });
}
