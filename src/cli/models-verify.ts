import type { Command } from 'commander';
import { formatDuration } from '../core/output.js';
import { manifestFiles, loadBundle } from '../generate/diffportrait360/bundle.js';
import { outputFor } from './program.js';

/**
 * `head3d models verify <bundle>`: the full bundle check, every file's sha256 included (the
 * full-size graphs are GBs, so `generate` hashes only files under 64 MB on each load).
 */
export function registerModelsVerify(models: Command): void {
  models
    .command('verify')
    .description('check a model bundle completely: manifest, signatures, sizes and the sha256 of every file')
    .argument('<bundle>', 'the bundle folder')
    .action(async (dir: string, _options: unknown, command: Command) => {
      const out = outputFor(command);
      const started = performance.now();
      let hashedBytes = 0;
      const bundle = await loadBundle(dir, {
        verify: 'all',
        onHash: (file, bytes) => {
          hashedBytes += bytes;
          if (bytes >= 2 ** 20) out.progress(`sha256 ${file} (${(bytes / 2 ** 20).toFixed(1)} MiB)`);
        },
      });
      const files = manifestFiles(bundle.manifest);
      const m = bundle.manifest;
      const seconds = (performance.now() - started) / 1000;
      out.result(
        `bundle ${bundle.dir} is complete: ${m.config.name} config, ${m.precision}, ${m.source.kind} weights; ${files.length} files, ` +
          `${(hashedBytes / 2 ** 30).toFixed(2)} GiB checked in ${formatDuration(seconds)}`,
        { ok: true, dir: bundle.dir, config: m.config.name, precision: m.precision, source: m.source, files: files.length, bytes: hashedBytes, seconds },
      );
    });
}
