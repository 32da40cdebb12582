import { join } from 'node:path';
import { loadFaceModels } from '../generate/preprocess/face-models.js';
import { PREPROCESS_DEFAULTS, openPortrait, preprocess } from '../generate/preprocess/preprocess.js';
import { landmarksInCrop, writeCropLandmarks } from '../generate/proxy/crop-landmarks.js';
import type { BuildContext, StageReport } from './build-context.js';
import { runStage } from './run-stage.js';
import { stageKey } from './stage-record.js';

/** Crop size the generators take (DiffPortrait360's input). */
export const CROP_SIZE = 512;

/**
 * The preprocess stage: crop.png, camera.json, dataset.json, overlay.png, plus landmarks.json (the
 * face landmarks in crop pixels, which the proxy generator fits its head to).
 */
export async function preprocessStage(context: BuildContext, portrait: string): Promise<StageReport> {
  const key = await stageKey({ portrait }, { stage: 'preprocess', version: 2, size: CROP_SIZE, matte: 'selfie-guided' });
  return runStage(context, 'preprocess', key, async () => {
    const file = await openPortrait(portrait);
    // The detector's view of the picture decodes while the models load (sizes are decoded once).
    const decoding = file.image.atMost(PREPROCESS_DEFAULTS.detectionSize);
    decoding.catch(() => {}); // awaited below, after the models
    context.progress('preprocess', 'loading face models');
    const models = await loadFaceModels();
    try {
      await decoding;
      const result = await preprocess(file, context.workDir, models, { size: CROP_SIZE, onProgress: (step) => context.progress('preprocess', step) });
      await writeCropLandmarks(join(context.workDir, 'landmarks.json'), landmarksInCrop(result.face.landmarks, result.cropSquare, CROP_SIZE), CROP_SIZE);
      const { yawDeg, pitchDeg, rollDeg } = result.angles;
      return {
        outputs: ['crop.png', 'camera.json', 'dataset.json', 'overlay.png', 'landmarks.json'],
        facts: { facesFound: result.facesFound, yawDeg, pitchDeg, rollDeg },
      };
    } finally {
      models.dispose();
    }
  });
}
