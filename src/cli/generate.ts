import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { statSync } from 'node:fs';
import type { Command } from 'commander';
import { Head3dError } from '../core/errors.js';
import { formatDuration } from '../core/output.js';
import { generateDiffPortrait360, resolveCropPath } from '../generate/diffportrait360/diffportrait360-generator.js';
import type { ProviderChoice } from '../generate/diffportrait360/runtime/onnx-runtime.js';
import { positiveInteger } from './options.js';
import { outputFor } from './program.js';

interface GenerateCliOptions {
  models?: string;
  output?: string;
  seed: number;
  steps?: number;
  threads: number;
  provider: string;
  noiseFrames?: string;
  verify?: boolean;
  matte: string;
}

/**
 * `head3d generate <workdir|crop.png> --models <bundle> -o <views>`: the DiffPortrait360 views of a
 * preprocessed portrait (32 orbit frames + transforms.json + back.png), the fit stage's input.
 */
export function registerGenerate(program: Command): void {
  program
    .command('generate')
    .description('DiffPortrait360: 32 orbit views (+ back view) of a preprocessed portrait, with a model bundle')
    .argument('<workdir|crop.png>', 'a work directory holding crop.png (head3d preprocess) or the crop itself')
    .option('--models <dir>', 'DiffPortrait360 model bundle (default: HEAD3D_MODELS)')
    .option('-o, --output <dir>', 'views folder to write (default: <workdir>/views, or views/ beside the crop)')
    .option('--seed <n>', 'random seed of every noise draw', (v) => positiveInteger(String(Number(v) + 1)) - 1, 42)
    .option('--steps <n>', 'DDIM steps (default: the bundle\'s, 50; must divide 1000)', positiveInteger)
    .option('--threads <n>', 'onnxruntime intra-op threads', positiveInteger, availableParallelism())
    .option('--provider <name>', 'onnxruntime execution provider: auto (CUDA when installed), cpu or cuda', 'auto')
    .option('--noise-frames <dir>', '32 PanoHead renders of the orbit (name order) for the 3D-aware initial noise')
    .option('--verify', 'check the sha256 of every bundle file, GB-sized graphs included')
    .option('--matte <how>', 'alpha of frames on a busy background: model (the preprocess matting model) or key (plain backgrounds only; others stay opaque)', 'model')
    .action(async (source: string, options: GenerateCliOptions, command: Command) => {
      const out = outputFor(command);
      const models = options.models ?? process.env.HEAD3D_MODELS;
      if (!models) throw new Head3dError('no model bundle given', { hint: 'pass --models <bundle> or set HEAD3D_MODELS (head3d models convert makes one)' });
      if (options.matte !== 'model' && options.matte !== 'key') throw new Head3dError(`--matte must be model or key, not "${options.matte}"`);
      const crop = resolveCropPath(source);
      const outDir = resolve(options.output ?? join(statSync(resolve(source)).isDirectory() ? resolve(source) : dirname(crop), 'views'));
      const result = await generateDiffPortrait360(crop, outDir, {
        models,
        seed: options.seed,
        steps: options.steps,
        threads: options.threads,
        provider: options.provider as ProviderChoice,
        noiseFrames: options.noiseFrames,
        verify: options.verify,
        matte: options.matte,
        onNote: (line) => {
          out.progress(line);
          out.endProgress();
        },
        onProgress: (p) => out.progress(`${p.message}${p.etaSeconds !== undefined ? `  ETA ${formatDuration(p.etaSeconds)}` : ''}`),
      });
      out.result(
        [
          `wrote ${result.views} views + back.png to ${outDir} in ${formatDuration(result.seconds.total)} on ${result.provider} (${result.steps} steps, ${result.initialNoise} initial noise)`,
          `  back view ${formatDuration(result.seconds.back)}, orbit ${formatDuration(result.seconds.orbit)} (${formatDuration(result.stepSeconds.orbit)}/step), decode ${formatDuration(result.seconds.decode)}`,
          `  alpha: ${result.matted} frames keyed from a plain background, ${result.modelMatted} matted by the model${result.opaque ? `, ${result.opaque} left opaque` : ''}`,
        ].join('\n'),
        { ...result, outDir },
      );
    });
}
