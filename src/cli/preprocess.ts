import { resolve } from 'node:path';
import type { Command } from 'commander';
import { formatDuration } from '../core/output.js';
import { loadFaceModels } from '../generate/preprocess/face-models.js';
import { PREPROCESS_DEFAULTS, openPortrait, preprocess } from '../generate/preprocess/preprocess.js';
import { outputFor } from './program.js';
import { positiveInteger } from './options.js';

interface PreprocessCliOptions {
  output: string;
  size: number;
}

/** `head3d preprocess <portrait> -o <dir>`: face, pose, PanoHead crop + camera, matte. */
export function registerPreprocess(program: Command): void {
  program
    .command('preprocess')
    .description('find the face, fit the head pose and write the PanoHead-style crop (RGBA, alpha = matte), camera.json, dataset.json and overlay.png')
    .argument('<portrait>', 'a photo or painting with one face (PNG, JPEG, WebP, TIFF)')
    .requiredOption('-o, --output <dir>', 'work directory to write into')
    .option('--size <px>', 'crop size', positiveInteger, PREPROCESS_DEFAULTS.size)
    .action(async (portrait: string, options: PreprocessCliOptions, command: Command) => {
      const out = outputFor(command);
      const started = performance.now();
      // The file and its header first, so a wrong path or a non-image fails at once.
      const file = await openPortrait(resolve(portrait));
      out.progress('preprocess: loading face models');
      // The detector's view of the picture decodes while the models load (sizes are decoded once).
      const decoding = file.image.atMost(PREPROCESS_DEFAULTS.detectionSize);
      decoding.catch(() => {}); // awaited below, after the models
      const models = await loadFaceModels();
      try {
        await decoding;
        const result = await preprocess(file, resolve(options.output), models, {
          size: options.size,
          onProgress: (step) => out.progress(`preprocess: ${step}`),
        });
        const seconds = (performance.now() - started) / 1000;
        const { yawDeg, pitchDeg, rollDeg } = result.angles;
        out.result(
          `${facesSummary(result.facesFound, result.face.box)}; camera yaw ${yawDeg.toFixed(1)}°, pitch ${pitchDeg.toFixed(1)}°, roll ${rollDeg.toFixed(1)}°; ${formatDuration(seconds)}\n` +
            result.warnings.map((w) => `  warning: ${w}\n`).join('') +
            Object.values(result.files).map((f) => `  ${f}`).join('\n'),
          {
            files: result.files,
            facesFound: result.facesFound,
            warnings: result.warnings,
            faceBox: result.face.box,
            camera: { yawDeg, pitchDeg, rollDeg, cam2world: result.camera.cam2world },
            outsideFraction: result.outsideFraction,
            matte: { source: result.matteSource, faceCoverage: result.faceCoverage },
            seconds,
          },
        );
      } finally {
        models.dispose();
      }
    });
}

/** "1 face found" or "3 faces found, used the one of 212 px at 340,410" (see `chooseFace`). */
function facesSummary(found: number, box: [number, number, number, number]): string {
  if (found === 1) return '1 face found';
  const [x, y, w, h] = box;
  return `${found} faces found, used the one of ${Math.round(Math.max(w, h))} px at ${Math.round(x + w / 2)},${Math.round(y + h / 2)}`;
}
