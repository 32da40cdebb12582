import { existsSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, extname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Head3dError } from '../core/errors.js';
import { type BackendChoice, isBackendChoice } from '../nerf/backends/create-backend.js';
import type { BuildContext, BuildProgress, OutputFormat, StageReport } from './build-context.js';
import { type BuildOutputs, exportStage, outputPaths } from './export-stage.js';
import { fitStage } from './fit-stage.js';
import { diffportrait360GenerateStage, importGenerateStage, proxyGenerateStage } from './generate-stage.js';
import { loadBundle } from '../generate/diffportrait360/bundle.js';
import { resolveGenerator } from './generator-choice.js';
import { type Quality, qualityPreset } from './presets.js';
import { preprocessStage } from './preprocess-stage.js';
import { StageRecord } from './stage-record.js';

/** The portrait `head3d build` uses when given none: NASA's public-domain astronaut portrait. */
export const DEFAULT_PORTRAIT = fileURLToPath(new URL('../../assets/astronaut.png', import.meta.url));

export interface BuildOptions {
  /** The portrait (default: the bundled astronaut). Not needed with imported views. */
  portrait?: string;
  /** The .glb to write (default head.glb). */
  output?: string;
  /** Work directory (default: beside the output, head.glb → head.work). */
  work?: string;
  format?: OutputFormat;
  quality?: Quality;
  backend?: BackendChoice;
  threads?: number;
  seed?: number;
  generator?: string;
  /** DiffPortrait360 model bundle (or HEAD3D_MODELS). */
  models?: string;
  /** Views for the import generator: a transforms.json, a folder of 32 orbit frames or a video of the orbit. */
  views?: string;
  /** Held-out views (a transforms.json) that score an imported fit; the proxy makes its own. */
  holdout?: string;
  /** Seconds of fitting between resume checkpoints (default 15); tests use less. */
  checkpointSeconds?: number;
  /** Redo every stage. */
  force?: boolean;
  onProgress?: (event: BuildProgress) => void;
  /** One-line notes for the person running the build (which generator, …). */
  onNote?: (line: string) => void;
}

export const BUILD_DEFAULTS = { output: 'head.glb', format: 'mesh' as OutputFormat, quality: 'standard' as Quality, backend: 'auto' as BackendChoice, seed: 42, generator: 'auto', checkpointSeconds: 15 };

export interface BuildSummary {
  portrait: string | null;
  generator: 'proxy' | 'import' | 'diffportrait360';
  quality: Quality;
  workDir: string;
  outputs: BuildOutputs;
  stages: StageReport[];
  seconds: number;
}

/**
 * `head3d build` as a library function: preprocess → generate → fit → export in a work directory,
 * each stage skipped when stage.json shows it done with the same inputs and options, the fit
 * resumable after a kill, the final files written atomically.
 *
 * @example
 * const summary = await buildHead({ portrait: 'portrait.jpg', output: 'head.glb', quality: 'draft' });
 */
export async function buildHead(options: BuildOptions = {}): Promise<BuildSummary> {
  const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as BuildOptions;
  const o = { ...BUILD_DEFAULTS, ...defined };
  const started = performance.now();
  const preset = qualityPreset(o.quality);
  if (!['mesh', 'splats', 'both'].includes(o.format)) throw new Head3dError(`--format must be mesh, splats or both, not "${o.format}"`);
  if (!isBackendChoice(o.backend)) throw new Head3dError(`--backend must be auto, cpu or webgpu, not "${o.backend}"`);
  const output = resolve(o.output);
  if (extname(output).toLowerCase() !== '.glb') throw new Head3dError(`the output must be a .glb file, not ${o.output}`, { hint: 'e.g. -o head.glb' });
  if (existsSync(output) && statSync(output).isDirectory()) throw new Head3dError(`the output ${o.output} is a directory`, { hint: 'give a .glb file name' });
  const { generator, models, note } = resolveGenerator(o.generator, { models: o.models, views: o.views });
  if (models) await loadBundle(models, { verify: 'none' }); // refuse a bad bundle before preprocessing
  const portrait = generator === 'import' ? null : resolve(o.portrait ?? DEFAULT_PORTRAIT);
  if (portrait && !existsSync(portrait)) throw new Head3dError(`portrait not found: ${o.portrait ?? portrait}`, { hint: 'check the path' });
  if (portrait && statSync(portrait).isDirectory()) throw new Head3dError(`the portrait is a directory: ${o.portrait}`, { hint: 'give an image file' });
  if (o.holdout && generator !== 'import') throw new Head3dError('--holdout is for imported views; the proxy generator makes its own', { hint: 'drop --holdout, or use --generator import --views …' });
  if (!(o.checkpointSeconds > 0)) throw new Head3dError(`the checkpoint interval must be a positive number of seconds, not ${o.checkpointSeconds}`);
  if (note) o.onNote?.(note);

  const workDir = resolve(o.work ?? output.replace(/\.glb$/i, '') + '.work');
  if (existsSync(workDir) && !statSync(workDir).isDirectory()) throw new Head3dError(`the work directory ${workDir} is a file`, { hint: 'pass another --work' });
  await mkdir(workDir, { recursive: true });
  await mkdir(dirname(output), { recursive: true });
  const context: BuildContext = {
    workDir,
    record: await StageRecord.open(workDir),
    preset,
    seed: o.seed,
    backend: o.backend,
    threads: o.threads ?? availableParallelism(),
    force: o.force ?? false,
    checkpointSeconds: o.checkpointSeconds,
    progress: (stage, message) => o.onProgress?.({ stage, message }),
  };
  const outputs = outputPaths(output, o.format);
  const stages: StageReport[] = [];
  if (portrait) {
    stages.push(await preprocessStage(context, portrait));
    stages.push(models ? await diffportrait360GenerateStage(context, models) : await proxyGenerateStage(context));
  } else {
    stages.push(await importGenerateStage(context, o.views!, o.holdout));
  }
  stages.push(await fitStage(context));
  stages.push(await exportStage(context, outputs));
  return { portrait, generator, quality: o.quality, workDir, outputs, stages, seconds: (performance.now() - started) / 1000 };
}
