import { type Command, Option } from 'commander';
import { Head3dError } from '../core/errors.js';
import { formatDuration } from '../core/output.js';
import type { WrittenBundle } from '../generate/diffportrait360/bundle-writer.js';
import { FULL_CONFIG, MICRO_CONFIG, TINY_CONFIG } from '../generate/diffportrait360/config.js';
import { registerModelsVerify } from './models-verify.js';
import { nonNegativeInteger } from './options.js';
import { outputFor } from './program.js';

interface RandomCliOptions {
  output: string;
  tiny?: boolean;
  full?: boolean;
  seed: number;
  precision: 'fp32' | 'fp16';
  force?: boolean;
}

interface ConvertCliOptions {
  back: string;
  orbit: string;
  hints: string;
  output: string;
  config: 'full' | 'tiny' | 'micro';
  precision: 'fp32' | 'fp16';
  force?: boolean;
}

const CONFIGS = { full: FULL_CONFIG, tiny: TINY_CONFIG, micro: MICRO_CONFIG };

const precisionOption = (): Option =>
  new Option('--precision <type>', 'weights and compute of the graphs: fp32 (CPU) or fp16 (half the size; recommended for CUDA)').choices(['fp32', 'fp16']).default('fp32');

/**
 * `head3d models random|convert`: write a DiffPortrait360 model bundle (the folder `head3d generate
 * --models` reads) from seeded random weights or from the two released checkpoints.
 */
export function registerModels(program: Command): void {
  const models = program.command('models').description('make DiffPortrait360 model bundles (the folder head3d generate --models reads)');

  models
    .command('random')
    .description('write a bundle with seeded random weights and synthetic camera hints (for tests and benchmarks; its views are noise)')
    .requiredOption('-o, --output <bundle>', 'bundle folder to write')
    .addOption(new Option('--tiny', 'tiny networks, 64² images (default; about 220 MB fp32)').conflicts('full'))
    .addOption(new Option('--full', 'full-size networks, 512² images (about 19 GB of fp32 weights, 9.5 GB fp16)').conflicts('tiny'))
    .option('--seed <n>', 'seed of the random weights', nonNegativeInteger, 1)
    .addOption(precisionOption())
    .option('--force', 'replace an existing bundle folder')
    .action(async (options: RandomCliOptions, command: Command) => {
      const out = outputFor(command);
      const started = performance.now();
      const [{ writeRandomBundle }, { buildGraph }] = await Promise.all([
        import('../generate/diffportrait360/random-bundle.js'),
        import('../generate/diffportrait360/networks/graphs.js'),
      ]);
      const written = await writeRandomBundle(options.output, {
        size: options.full ? 'full' : 'tiny',
        seed: options.seed,
        precision: options.precision,
        unetGraphs: buildGraph,
        force: options.force ?? false,
        onProgress: (line) => out.progress(line),
      });
      report(out, written, (performance.now() - started) / 1000);
    });

  models
    .command('convert')
    .description('convert the released checkpoints (back_head-230000.th, model_state-340000.th) into a bundle')
    .requiredOption('--back <file>', 'back-view model checkpoint (back_head-*.th)')
    .requiredOption('--orbit <file>', '360° model checkpoint (model_state-*.th)')
    .requiredOption('--hints <dir>', 'the 32 camera-condition images (sample_data/cam_condition/sphere32)')
    .requiredOption('-o, --output <bundle>', 'bundle folder to write')
    .addOption(new Option('--config <name>', 'architecture of the checkpoints').choices(Object.keys(CONFIGS)).default('full'))
    .addOption(precisionOption())
    .option('--force', 'replace an existing bundle folder')
    .action(async (options: ConvertCliOptions, command: Command) => {
      const out = outputFor(command);
      const started = performance.now();
      const [{ convertBundle }, { buildGraph, expectedStateDictKeys }, { openCheckpoint }] = await Promise.all([
        import('../generate/diffportrait360/convert-bundle.js'),
        import('../generate/diffportrait360/networks/graphs.js'),
        import('../generate/diffportrait360/checkpoint/index.js'),
      ]);
      if (options.back === options.orbit) {
        throw new Head3dError('--back and --orbit name the same file', { hint: 'the back-view (back_head-*.th) and 360° (model_state-*.th) models are separate checkpoints' });
      }
      const back = await openCheckpoint(options.back);
      try {
        const orbit = await openCheckpoint(options.orbit);
        try {
          const written = await convertBundle(options.output, {
            config: CONFIGS[options.config],
            checkpoints: { back, orbit },
            hintsDir: options.hints,
            precision: options.precision,
            unetGraphs: buildGraph,
            unetKeys: expectedStateDictKeys,
            force: options.force ?? false,
            onProgress: (line) => out.progress(line),
          });
          report(out, written, (performance.now() - started) / 1000);
        } finally {
          await orbit.close();
        }
      } finally {
        await back.close();
      }
    });

  registerModelsVerify(models);
  for (const command of models.commands) command.exitOverride().showHelpAfterError('(run with --help for usage)');
}

function report(out: ReturnType<typeof outputFor>, written: WrittenBundle, seconds: number): void {
  const graphs = Object.keys(written.manifest.graphs).length;
  out.result(
    `wrote ${written.dir}: ${graphs} graphs, ${written.files} files, ${(written.bytes / 2 ** 20).toFixed(1)} MiB in ${formatDuration(seconds)} (config ${written.manifest.config.name}, ${written.manifest.precision}, ${written.manifest.source.kind})`,
    { bundle: written.dir, config: written.manifest.config.name, precision: written.manifest.precision, source: written.manifest.source, graphs, files: written.files, bytes: written.bytes, seconds },
  );
}
