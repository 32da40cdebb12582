import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import { Head3dError } from '../core/errors.js';
import { formatDuration } from '../core/output.js';
import { createBackend, isBackendChoice } from '../nerf/backends/create-backend.js';
import { readCheckpoint, writeCheckpoint } from '../nerf/train/checkpoint.js';
import { FIT_DEFAULTS, type FitState, fitField } from '../nerf/train/fit.js';
import { loadViewData } from '../nerf/train/view-data.js';
import { evaluateField } from '../nerf/train/evaluate.js';
import { outputFor } from './program.js';
import { positiveInteger, positiveNumber } from './options.js';
import { readViewSetArgument } from './view-set-arg.js';

interface FitCliOptions {
  output: string;
  steps?: number;
  time?: number;
  backend: string;
  threads: number;
  rays: number;
  seed: number;
  loss: string;
  holdout?: string;
  resume: boolean;
  checkpointEvery: number;
}

/** Seconds between resume checkpoints written during a fit. */
const DEFAULT_CHECKPOINT_SECONDS = 30;

export function registerFit(program: Command): void {
  program
    .command('fit')
    .description('fit a hash-grid radiance field to a view set (transforms.json) and write a .h3df checkpoint')
    .argument('<views>', 'transforms.json or the directory holding it')
    .requiredOption('-o, --output <field.h3df>', 'checkpoint to write')
    .option('--steps <n>', `training steps (default ${FIT_DEFAULTS.steps} unless --time is given)`, positiveInteger)
    .option('--time <seconds>', 'training time budget; with --steps, whichever ends first', positiveNumber)
    .option('--backend <name>', 'compute backend: auto, cpu or webgpu', 'auto')
    .option('--threads <n>', 'worker threads for the cpu backend', positiveInteger, availableParallelism())
    .option('--rays <n>', 'rays per step', positiveInteger, FIT_DEFAULTS.raysPerStep)
    .option('--seed <n>', 'random seed', (v) => positiveInteger(String(Number(v) + 1)) - 1, FIT_DEFAULTS.seed)
    .option('--loss <kind>', 'l2 or huber', FIT_DEFAULTS.loss)
    .option('--holdout <views>', 'held-out view set to score at the end')
    .option('--no-resume', 'ignore a resume checkpoint left by an interrupted fit')
    .option('--checkpoint-every <seconds>', 'seconds between resume checkpoints', positiveNumber, DEFAULT_CHECKPOINT_SECONDS)
    .action(async (viewsPath: string, options: FitCliOptions, command: Command) => {
      const out = outputFor(command);
      if (!isBackendChoice(options.backend)) throw new Head3dError(`--backend must be auto, cpu or webgpu, not "${options.backend}"`);
      if (options.loss !== 'l2' && options.loss !== 'huber') throw new Head3dError(`--loss must be l2 or huber, not "${options.loss}"`);
      const outputPath = resolve(options.output);
      const resumePath = `${outputPath}.resume`;
      const { viewSet, transformsPath } = await readViewSetArgument(viewsPath);
      const holdout = options.holdout ? (await readViewSetArgument(options.holdout)).viewSet : undefined;
      const views = await loadViewData(viewSet, undefined, (done, total) => out.progress(`fit: loading views ${done}/${total}`));

      let resume: FitState | undefined;
      if (options.resume && existsSync(resumePath)) {
        const checkpoint = await readCheckpoint(resumePath);
        if (checkpoint.training.views === resolve(transformsPath)) {
          resume = checkpoint.state;
          out.progress(`fit: resuming from step ${resume.step} (${resumePath})`);
          out.endProgress();
        }
      }

      const backend = await createBackend(options.backend, options.threads);
      try {
        const facts = { views: resolve(transformsPath), frames: viewSet.frames.length, backend: backend.name, threads: backend.threads };
        let lastCheckpoint = performance.now();
        let checkpointWrite: Promise<void> = Promise.resolve();
        const steps = options.steps ?? (options.time ? undefined : FIT_DEFAULTS.steps);
        const result = await fitField(views, backend, {
          steps,
          timeSeconds: options.time,
          raysPerStep: options.rays,
          seed: options.seed,
          loss: options.loss,
          resume,
          onStep: async (s) => {
            const total = Number.isFinite(s.totalSteps) ? `/${s.totalSteps}` : '';
            const remaining = options.time ? Math.max(0, options.time - s.seconds) : ((s.totalSteps - s.step) * s.seconds) / Math.max(1, s.step);
            out.progress(
              `fit: step ${s.step}${total}  ${formatDuration(s.seconds)}  ${Math.round(s.samplesPerSecond / 1000)}k samples/s  ` +
                `train ${s.trainPsnr.toFixed(2)} dB  ETA ${formatDuration(remaining)}`,
            );
            if ((performance.now() - lastCheckpoint) / 1000 >= options.checkpointEvery) {
              lastCheckpoint = performance.now();
              await checkpointWrite;
              checkpointWrite = writeCheckpoint(resumePath, await s.state(), facts);
            }
          },
        });
        await checkpointWrite;
        let holdoutScore;
        if (holdout) holdoutScore = await evaluateField(backend, holdout, (done, total) => out.progress(`fit: scoring held-out views ${done}/${total}`));
        const training = { ...facts, trainPsnr: result.finalTrainPsnr, holdoutPsnr: holdoutScore?.psnr, holdoutSsim: holdoutScore?.ssim };
        await writeCheckpoint(outputPath, result.state, training, false);
        await rm(resumePath, { force: true });
        out.result(
          `fitted ${result.state.step} steps in ${formatDuration(result.seconds)} (${Math.round(result.samples / result.seconds / 1000)}k samples/s): ` +
            `train PSNR ${result.finalTrainPsnr.toFixed(2)} dB` +
            (holdoutScore ? `, held-out PSNR ${holdoutScore.psnr.toFixed(2)} dB, SSIM ${holdoutScore.ssim.toFixed(4)}` : '') +
            `\n  ${outputPath}`,
          { output: outputPath, steps: result.state.step, seconds: result.seconds, samples: result.samples, trainPsnr: result.finalTrainPsnr, holdout: holdoutScore ?? null },
        );
      } finally {
        await backend.close();
      }

    });
}
