import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { readImage } from '../core/image.js';
import { formatDuration } from '../core/output.js';
import { readTransformsJson } from '../core/transforms-json.js';
import { MANIFEST_FILE } from '../generate/diffportrait360/bundle-manifest.js';
import { generateDiffPortrait360 } from '../generate/diffportrait360/diffportrait360-generator.js';
import { describeImport, importViews } from '../generate/import/import-views.js';
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
  const options = { stage: 'generate', generator: 'proxy', version: 3, size: preset.viewSize, holdout: preset.holdout, proxy: preset.proxy };
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

/**
 * The generate stage with imported views (a transforms.json, a folder of 32 orbit frames or a
 * video of the orbit): views/transforms.json points at them, or at frames decoded and matted into
 * views/frames/. `holdout`, a view set of other cameras of the same subject, goes to
 * views/holdout/ to score the fit.
 */
export async function importGenerateStage(context: BuildContext, source: string, holdout?: string): Promise<StageReport> {
  const views = await describeImport(source);
  const held = holdout ? await describeImport(holdout) : undefined;
  const named = Object.fromEntries([
    ...views.files.map((f, i) => [`${i}:${f}`, f]),
    ...(held?.files ?? []).map((f, i) => [`holdout${i}:${f}`, f]),
  ]);
  const key = await stageKey(named, { stage: 'generate', generator: 'import', version: 2 });
  return runStage(context, 'generate', key, async () => {
    const viewsDir = join(context.workDir, 'views');
    await rm(viewsDir, { recursive: true, force: true });
    context.progress('generate', `importing views from ${source}`);
    const onProgress = (message: string) => context.progress('generate', message);
    const result = await importViews(source, viewsDir, { onProgress });
    const heldOut = holdout ? await importViews(holdout, join(viewsDir, 'holdout'), { onProgress }) : undefined;
    return {
      outputs: ['views/transforms.json', ...(heldOut ? ['views/holdout/transforms.json'] : [])],
      facts: { generator: 'import', views: result.views, kind: result.kind, mattedFrames: result.matted, opaqueFrames: result.opaque, holdoutViews: heldOut?.views ?? 0 },
    };
  });
}

/**
 * The generate stage with DiffPortrait360: views/ holds the 32 generated orbit frames (alpha keyed
 * from their background), transforms.json and back.png. The key covers the crop, the bundle's
 * manifest (which holds every graph's sha256) and the seed.
 */
export async function diffportrait360GenerateStage(context: BuildContext, models: string): Promise<StageReport> {
  const w = context.workDir;
  const files = { crop: join(w, 'crop.png'), manifest: join(models, MANIFEST_FILE) };
  const key = await stageKey(files, { stage: 'generate', generator: 'diffportrait360', version: 1, seed: context.seed });
  return runStage(context, 'generate', key, async () => {
    const result = await generateDiffPortrait360(files.crop, join(w, 'views'), {
      models,
      seed: context.seed,
      threads: context.threads,
      onNote: (line) => context.progress('generate', line),
      onProgress: (p) => context.progress('generate', p.etaSeconds === undefined ? p.message : `${p.message}  ETA ${formatDuration(p.etaSeconds)}`),
    });
    return {
      outputs: ['views/transforms.json', 'views/back.png'],
      facts: { generator: 'diffportrait360', views: result.views, provider: result.provider, steps: result.steps, seconds: result.seconds, mattedFrames: result.matted, modelMattedFrames: result.modelMatted, opaqueFrames: result.opaque },
    };
  });
}
