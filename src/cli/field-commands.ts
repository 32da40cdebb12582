import { join, resolve } from 'node:path';
import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import { Head3dError } from '../core/errors.js';
import { formatDuration } from '../core/output.js';
import { writePng } from '../core/image.js';
import { writeTransformsJson } from '../core/transforms-json.js';
import { type FitBackend } from '../nerf/backends/backend.js';
import { createBackend, isBackendChoice } from '../nerf/backends/create-backend.js';
import { readCheckpoint } from '../nerf/train/checkpoint.js';
import { evaluateField } from '../nerf/train/evaluate.js';
import { renderFieldView } from '../nerf/render/render-view.js';
import { outputFor } from './program.js';
import { positiveInteger } from './options.js';
import { readViewSetArgument } from './view-set-arg.js';

interface FieldCliOptions {
  views: string;
  backend: string;
  threads: number;
}

/** Loads a checkpoint onto a fresh backend (rendering needs no training views). */
async function openField(path: string, options: FieldCliOptions): Promise<FitBackend> {
  if (!isBackendChoice(options.backend)) throw new Head3dError(`--backend must be auto, cpu or webgpu, not "${options.backend}"`);
  const { state } = await readCheckpoint(path);
  const backend = await createBackend(options.backend, options.threads);
  const noViews = {
    count: 0, cameras: new Float64Array(new SharedArrayBuffer(8)), pixels: new Uint8Array(new SharedArrayBuffer(4)),
    pixelOffsets: new Float64Array(new SharedArrayBuffer(8)), widths: new Int32Array(new SharedArrayBuffer(4)), heights: new Int32Array(new SharedArrayBuffer(4)),
  };
  await backend.setup({ config: state.config, march: state.march, params: state.params, grid: state.grid, views: noViews });
  return backend;
}

function fieldOptions(command: Command): Command {
  return command
    .requiredOption('--views <views>', 'transforms.json (or its directory) with the cameras')
    .option('--backend <name>', 'compute backend: auto, cpu or webgpu', 'auto')
    .option('--threads <n>', 'worker threads for the cpu backend', positiveInteger, availableParallelism());
}

export function registerFieldCommands(program: Command): void {
  fieldOptions(
    program
      .command('render')
      .description("render a fitted field at a view set's cameras (RGBA PNGs + transforms.json)")
      .argument('<field>', '.h3df checkpoint')
      .requiredOption('-o, --output <dir>', 'output directory'),
  ).action(async (fieldPath: string, options: FieldCliOptions & { output: string }, command: Command) => {
    const out = outputFor(command);
    const { viewSet } = await readViewSetArgument(options.views);
    const backend = await openField(fieldPath, options);
    const started = performance.now();
    const outDir = resolve(options.output);
    try {
      const frames = [];
      for (const frame of viewSet.frames) {
        const name = frame.filePath.replace(/^(\.\/)+/, '').replace(/\.[^./]*$/, '') + '.png';
        await writePng(join(outDir, name), await renderFieldView(backend, frame.camera));
        frames.push({ camera: frame.camera, filePath: name });
        out.progress(`render: ${frames.length}/${viewSet.frames.length} views`);
      }
      await writeTransformsJson(join(outDir, 'transforms.json'), { baseDir: outDir, frames });
      const seconds = (performance.now() - started) / 1000;
      out.result(`rendered ${frames.length} views in ${formatDuration(seconds)}\n  ${join(outDir, 'transforms.json')}`, { output: outDir, views: frames.length, seconds });
    } finally {
      await backend.close();
    }
  });

  fieldOptions(
    program
      .command('eval')
      .description("score a fitted field against a view set's images (PSNR, SSIM; also over the alpha mask)")
      .argument('<field>', '.h3df checkpoint'),
  ).action(async (fieldPath: string, options: FieldCliOptions, command: Command) => {
    const out = outputFor(command);
    const { viewSet } = await readViewSetArgument(options.views);
    const backend = await openField(fieldPath, options);
    try {
      const result = await evaluateField(backend, viewSet, (done, total) => out.progress(`eval: ${done}/${total} views`));
      const lines = result.views.map((v) => `  ${v.filePath}  PSNR ${v.psnr.toFixed(2)} dB  SSIM ${v.ssim.toFixed(4)}  masked PSNR ${v.maskedPsnr.toFixed(2)} dB`);
      out.result(
        [...lines, `mean over ${result.views.length} views: PSNR ${result.psnr.toFixed(2)} dB, SSIM ${result.ssim.toFixed(4)}, masked PSNR ${result.maskedPsnr.toFixed(2)} dB, masked SSIM ${result.maskedSsim.toFixed(4)}`].join('\n'),
        result,
      );
    } finally {
      await backend.close();
    }
  });
}
