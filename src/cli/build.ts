import { statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { type Command, Option } from 'commander';
import { formatDuration } from '../core/output.js';
import { BUILD_DEFAULTS, type BuildSummary, buildHead } from '../build/build-head.js';
import type { StageName } from '../build/build-context.js';
import type { Quality } from '../build/presets.js';
import type { BackendChoice } from '../nerf/backends/create-backend.js';
import { outputFor } from './program.js';
import { positiveInteger, positiveNumber } from './options.js';

interface BuildCliOptions {
  output: string;
  work?: string;
  format: string;
  quality: string;
  backend: string;
  threads: number;
  seed: number;
  generator: string;
  models?: string;
  views?: string;
  holdout?: string;
  checkpointSeconds: number;
  force?: boolean;
}

const STAGE_NUMBER: Record<StageName, number> = { preprocess: 1, generate: 2, fit: 3, export: 4 };

/** `head3d build [portrait] -o head.glb`: the whole pipeline, resumable, with a summary. */
export function registerBuild(program: Command): void {
  program
    .command('build')
    .description('portrait → views → radiance field → glTF, in a work directory; stages whose inputs did not change are skipped')
    .argument('[portrait]', 'a photo with one face (default: the bundled NASA astronaut portrait)')
    .option('-o, --output <file.glb>', 'the .glb to write', BUILD_DEFAULTS.output)
    .option('--work <dir>', 'work directory (default: beside the output, head.glb → head.work)')
    .option('--format <kind>', 'mesh, splats or both (both: splats go to <name>.splats.glb)', BUILD_DEFAULTS.format)
    .option('--quality <preset>', 'draft (~3 min on 2 cores), standard (~10 min), high, or test (seconds, for CI)', BUILD_DEFAULTS.quality)
    .option('--generator <name>', 'auto, proxy, diffportrait360 or import', BUILD_DEFAULTS.generator)
    .option('--models <dir>', 'DiffPortrait360 model bundle (or set HEAD3D_MODELS)')
    .option('--views <dir|transforms.json|video>', 'views for the import generator: a transforms.json, a folder of 32 PanoHead-orbit frames, or a video of the orbit (needs ffmpeg)')
    .option('--holdout <transforms.json>', 'held-out views of the same subject that score an imported fit')
    .option('--backend <name>', 'compute backend: auto, cpu or webgpu', BUILD_DEFAULTS.backend)
    .option('--threads <n>', 'worker threads for the cpu backend', positiveInteger, availableParallelism())
    .option('--seed <n>', 'random seed', (v) => positiveInteger(String(Number(v) + 1)) - 1, BUILD_DEFAULTS.seed)
    .option('--force', 'redo every stage')
    .addOption(new Option('--checkpoint-seconds <s>', 'seconds of fitting between resume checkpoints').argParser(positiveNumber).default(BUILD_DEFAULTS.checkpointSeconds).hideHelp())
    .action(async (portrait: string | undefined, options: BuildCliOptions, command: Command) => {
      const out = outputFor(command);
      let lastStage: StageName | undefined;
      const summary = await buildHead({
        portrait,
        output: options.output,
        work: options.work,
        format: options.format as 'mesh',
        quality: options.quality as Quality,
        backend: options.backend as BackendChoice,
        threads: options.threads,
        seed: options.seed,
        generator: options.generator,
        models: options.models,
        views: options.views,
        holdout: options.holdout,
        checkpointSeconds: options.checkpointSeconds,
        force: options.force,
        onNote: (line) => {
          out.progress(line);
          out.endProgress();
        },
        onProgress: ({ stage, message }) => {
          if (lastStage && stage !== lastStage) out.endProgress();
          lastStage = stage;
          out.progress(`[${STAGE_NUMBER[stage]}/4] ${stage}: ${message}`);
        },
      });
      out.result(summaryText(summary), summaryJson(summary));
    });
}

function facts(summary: BuildSummary, stage: StageName): Record<string, unknown> {
  return summary.stages.find((s) => s.stage === stage)?.facts ?? {};
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

function megabytes(bytes: number): string {
  return bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${Math.round(bytes / 1e3)} kB`;
}

function summaryText(summary: BuildSummary): string {
  const lines: string[] = [];
  const fit = facts(summary, 'fit');
  const exported = facts(summary, 'export');
  const psnr = (v: unknown) => (typeof v === 'number' ? `${v.toFixed(2)} dB` : '–');
  lines.push(`built ${summary.outputs.mesh ?? summary.outputs.splats} in ${formatDuration(summary.seconds)} (${summary.quality}, ${summary.generator} views)`);
  for (const s of summary.stages) lines.push(`  ${s.stage.padEnd(10)} ${s.skipped ? 'skipped (up to date)' : formatDuration(s.seconds)}`);
  lines.push(`  fit PSNR   train ${psnr(fit.trainPsnr)}, held-out ${psnr(fit.holdoutPsnr)}${fit.holdoutViews ? ` (${fit.holdoutViews} held-out views)` : ''}`);
  if (summary.outputs.mesh) {
    const triangles = (exported.triangles as number[] | undefined) ?? [];
    lines.push(`  mesh       ${summary.outputs.mesh}: ${triangles.join(' / ')} triangles, ${megabytes(fileSize(summary.outputs.mesh))}`);
  }
  if (summary.outputs.splats) lines.push(`  splats     ${summary.outputs.splats}: ${exported.splats} splats, ${megabytes(fileSize(summary.outputs.splats))}`);
  lines.push(`  work dir   ${summary.workDir}`);
  return lines.join('\n');
}

function summaryJson(summary: BuildSummary): unknown {
  return {
    ...summary,
    files: Object.fromEntries(Object.entries(summary.outputs).map(([role, path]) => [role, { path, bytes: fileSize(path as string) }])),
  };
}
