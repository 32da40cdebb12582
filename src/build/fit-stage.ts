import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { formatDuration } from '../core/output.js';
import { readTransformsJson, frameImagePath } from '../core/transforms-json.js';
import { createBackend } from '../nerf/backends/create-backend.js';
import { readCheckpoint, writeCheckpoint } from '../nerf/train/checkpoint.js';
import { evaluateField } from '../nerf/train/evaluate.js';
import { type FitState, fitField } from '../nerf/train/fit.js';
import { DEFAULT_FIELD_CONFIG } from '../nerf/field/config.js';
import { loadViewData } from '../nerf/train/view-data.js';
import type { BuildContext, StageReport } from './build-context.js';
import { runStage } from './run-stage.js';
import { stageKey } from './stage-record.js';

/**
 * The fit stage: a radiance field fitted to views/transforms.json for the preset's time budget,
 * written to field.h3df; held-out views (if the generator made them) are scored afterwards. While
 * it runs, field.h3df.resume is refreshed every `context.checkpointSeconds`, and a rerun after a
 * kill continues from it when it carries this stage's key (same views, options and seed).
 */
export async function fitStage(context: BuildContext): Promise<StageReport> {
  const w = context.workDir;
  const transformsPath = join(w, 'views', 'transforms.json');
  const holdoutPath = join(w, 'views', 'holdout', 'transforms.json');
  const viewSet = await readTransformsJson(transformsPath);
  const files: Record<string, string> = { transforms: transformsPath };
  viewSet.frames.forEach((frame, i) => (files[`view${i}`] = frameImagePath(viewSet, frame)));
  // The held-out views only score the fit, but a changed set must not replay the old score.
  if (existsSync(holdoutPath)) files.holdout = holdoutPath;
  const { fit } = context.preset;
  const key = await stageKey(files, {
    stage: 'fit', version: 1, seconds: fit.seconds, rays: fit.rays, seed: context.seed,
    ...(fit.learningRate ? { learningRate: fit.learningRate } : {}),
    ...(fit.field ? { field: fit.field } : {}),
  });
  const config = fit.field ? { ...DEFAULT_FIELD_CONFIG, encoding: { ...DEFAULT_FIELD_CONFIG.encoding, ...fit.field } } : undefined;
  return runStage(context, 'fit', key, async () => {
    const fieldPath = join(w, 'field.h3df');
    const resumePath = `${fieldPath}.resume`;
    const views = await loadViewData(viewSet, undefined, (done, total) => context.progress('fit', `loading views ${done}/${total}`));
    let resume: FitState | undefined;
    if (!context.force && existsSync(resumePath)) {
      const checkpoint = await readCheckpoint(resumePath).catch(() => undefined);
      if (checkpoint?.training.buildKey === key) {
        resume = checkpoint.state;
        context.progress('fit', `resuming from step ${resume.step} (${formatDuration(resume.seconds)} in)`);
      }
    }
    const backend = await createBackend(context.backend, context.threads);
    try {
      const facts = { views: transformsPath, frames: viewSet.frames.length, backend: backend.name, threads: backend.threads, buildKey: key };
      let lastCheckpoint = performance.now();
      let pending: Promise<void> = Promise.resolve();
      const result = await fitField(views, backend, {
        timeSeconds: fit.seconds,
        raysPerStep: fit.rays,
        ...(fit.learningRate ? { learningRate: fit.learningRate[0], finalLearningRate: fit.learningRate[1] } : {}),
        ...(config ? { config } : {}),
        seed: context.seed,
        resume,
        onStep: async (s) => {
          context.progress('fit', `step ${s.step}  ${formatDuration(s.seconds)}/${formatDuration(fit.seconds)}  train ${s.trainPsnr.toFixed(2)} dB`);
          if ((performance.now() - lastCheckpoint) / 1000 >= context.checkpointSeconds) {
            lastCheckpoint = performance.now();
            await pending;
            pending = writeCheckpoint(resumePath, await s.state(), facts);
          }
        },
      });
      await pending;
      let holdout;
      if (existsSync(holdoutPath)) {
        holdout = await evaluateField(backend, await readTransformsJson(holdoutPath), (done, total) => context.progress('fit', `scoring held-out view ${done}/${total}`));
      }
      const training = { ...facts, trainPsnr: result.finalTrainPsnr, holdoutPsnr: holdout?.psnr, holdoutSsim: holdout?.ssim };
      await writeCheckpoint(fieldPath, result.state, training, false);
      await rm(resumePath, { force: true });
      return {
        outputs: ['field.h3df'],
        facts: {
          steps: result.state.step,
          resumedFromStep: resume?.step ?? null,
          fitSeconds: result.state.seconds,
          trainPsnr: result.finalTrainPsnr,
          holdoutPsnr: holdout?.psnr ?? null,
          holdoutMaskedPsnr: holdout?.maskedPsnr ?? null,
          holdoutSsim: holdout?.ssim ?? null,
          holdoutViews: holdout?.views.length ?? 0,
        },
      };
    } finally {
      await backend.close();
    }
  });
}
