import { randomBytes } from 'node:crypto';
import { stat, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import { ensureParentDirectory } from '../core/atomic.js';
import { Head3dError } from '../core/errors.js';
import { formatDuration } from '../core/output.js';
import { readCheckpoint } from '../nerf/train/checkpoint.js';
import { COMPRESSIONS, type Compression } from '../export/gltf/compress.js';
import type { ValidationSummary } from '../export/gltf/validate.js';
import { MESH_GLB_DEFAULTS, exportMeshGlb } from '../export/export-mesh-glb.js';
import { exportSplatsGlb } from '../export/export-splats.js';
import { calibrateIso } from '../export/mesh/calibrate-iso.js';
import { MESH_EXPORT_DEFAULTS, type Pivot, checkMeshExportOptions } from '../export/mesh/export-mesh.js';
import { parallelFieldSampler } from '../export/parallel/parallel-sampler.js';
import { SPLAT_EXTRACT_DEFAULTS } from '../export/splats/extract-splats.js';
import { outputFor } from './program.js';
import { positiveInteger } from './options.js';

interface ExportCliOptions {
  output: string;
  format: string;
  triangles: number;
  texture: number;
  lods: number;
  compress: string;
  textureFormat: string;
  pivot: string;
  resolution: number;
  iso: string;
  splats: number;
  ply?: string | boolean;
  threads: number;
}

const FORMATS = ['mesh', 'splats', 'both'] as const;

/** Where each file of an export goes: the mesh at `-o`; splats at `-o` alone, or beside the mesh as `<name>.splats.glb`. */
export function exportPaths(output: string, format: (typeof FORMATS)[number], ply: string | boolean | undefined): { mesh?: string; splats?: string; ply?: string } {
  const path = resolve(output);
  const stem = join(dirname(path), basename(path).replace(/\.glb$/i, ''));
  const splats = format === 'splats' ? path : format === 'both' ? `${stem}.splats.glb` : undefined;
  const plyPath = ply === undefined || ply === false || !splats ? undefined : ply === true ? `${splats.replace(/\.glb$/i, '')}.ply` : resolve(ply);
  return { mesh: format === 'splats' ? undefined : path, splats, ply: plyPath };
}

/**
 * Refuses an output path that cannot be written before any work is done: the directory is
 * created if needed and a probe file is written and removed next to the target.
 */
async function checkWritable(path: string): Promise<void> {
  const existing = await stat(path).catch(() => undefined);
  if (existing?.isDirectory()) throw new Head3dError(`cannot write ${path}: it is a directory`, { hint: 'give a file name, e.g. head.glb' });
  await ensureParentDirectory(path);
  const probe = `${path}.tmp-probe-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await writeFile(probe, '');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    const why = code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'EROFS' ? 'read-only file system' : `the directory does not accept new files (${code})`;
    throw new Head3dError(`cannot write ${path}: ${why}`, { hint: 'choose an output path you can write to' });
  } finally {
    await rm(probe, { force: true });
  }
}

function lodRatios(count: number): number[] {
  return Array.from({ length: count }, (_, i) => 0.5 ** i);
}

function validationSummary(v: ValidationSummary): { errors: number; warnings: number; infos: number; ignored: Record<string, number> } {
  return { errors: v.errors, warnings: v.warnings, infos: v.infos, ignored: v.ignored };
}

export function registerExport(program: Command): void {
  program
    .command('export')
    .description('export a fitted field (.h3df) as a textured mesh and/or Gaussian splats in glTF (.glb)')
    .argument('<field>', '.h3df checkpoint written by head3d fit')
    .requiredOption('-o, --output <head.glb>', 'output .glb; with --format both the splats go to <name>.splats.glb beside it')
    .option('--format <kind>', 'mesh, splats or both', 'mesh')
    .option('--triangles <n>', 'triangle budget of LOD0', positiveInteger, MESH_EXPORT_DEFAULTS.triangles)
    .option('--texture <px>', 'base-colour texture size (power of two)', positiveInteger, MESH_EXPORT_DEFAULTS.textureSize)
    .option('--lods <n>', 'levels of detail, each half the triangles of the one before (MSFT_lod)', positiveInteger, MESH_EXPORT_DEFAULTS.lods.length)
    .option('--compress <method>', `geometry compression: ${COMPRESSIONS.join(', ')}`, 'meshopt')
    .option('--texture-format <format>', 'webp (small, EXT_texture_webp) or png (lossless)', MESH_GLB_DEFAULTS.textureFormat)
    .option('--pivot <where>', 'origin of the model: center (head centre) or neck', MESH_EXPORT_DEFAULTS.pivot)
    .option('--resolution <n>', 'density grid cells along the field bounds for marching cubes', positiveInteger, MESH_EXPORT_DEFAULTS.resolution)
    .option('--iso <density>', 'surface density, or auto: where the rendered opacity crosses 0.5', 'auto')
    .option('--splats <n>', 'most Gaussians in the splat export', positiveInteger, SPLAT_EXTRACT_DEFAULTS.maxSplats)
    .option('--ply [file]', 'also write the splats in the Inria .ply layout (default: beside the splat .glb)')
    .option('--threads <n>', 'threads evaluating the field', positiveInteger, availableParallelism())
    .action(async (fieldPath: string, options: ExportCliOptions, command: Command) => {
      const out = outputFor(command);
      const started = performance.now();
      const format = options.format as (typeof FORMATS)[number];
      if (!FORMATS.includes(format)) throw new Head3dError(`--format must be mesh, splats or both, not "${options.format}"`);
      if (!COMPRESSIONS.includes(options.compress as Compression)) throw new Head3dError(`--compress must be ${COMPRESSIONS.join(', ')}, not "${options.compress}"`);
      if (options.textureFormat !== 'png' && options.textureFormat !== 'webp') throw new Head3dError(`--texture-format must be png or webp, not "${options.textureFormat}"`);
      if (options.pivot !== 'center' && options.pivot !== 'neck') throw new Head3dError(`--pivot must be center or neck, not "${options.pivot}"`);
      const iso = options.iso === 'auto' ? 'auto' : positiveNumberOrFail(options.iso);
      const meshOptions = {
        triangles: options.triangles, textureSize: options.texture, lods: lodRatios(options.lods), pivot: options.pivot as Pivot,
        resolution: options.resolution, compress: options.compress as Compression, textureFormat: options.textureFormat as 'png' | 'webp',
      };
      if (format !== 'splats') checkMeshExportOptions(meshOptions);
      else if (options.resolution < 8 || options.resolution > 1024) throw new Head3dError(`--resolution must be in 8..1024 (got ${options.resolution})`);
      const { state } = await readCheckpoint(resolve(fieldPath));
      const paths = exportPaths(options.output, format, options.ply);
      for (const path of [paths.mesh, paths.splats, paths.ply]) if (path) await checkWritable(path);

      const field = await parallelFieldSampler(state, { threads: options.threads });
      try {
        out.progress('export: calibrating the surface density');
        const calibration = iso === 'auto' ? calibrateIso(field) : undefined;
        const surface = calibration?.iso ?? (iso as number);
        const result: Record<string, unknown> = { field: resolve(fieldPath), format, iso: surface, isoQuartiles: calibration?.quartiles ?? null, threads: field.threads };
        const lines: string[] = [];
        if (paths.mesh) {
          const stageStart = performance.now();
          const mesh = await exportMeshGlb(field, paths.mesh, {
            ...meshOptions, iso: surface,
            onStage: (stage) => out.progress(`export: mesh ${stage}  ${formatDuration((performance.now() - stageStart) / 1000)}`),
          });
          result.mesh = {
            output: paths.mesh, bytes: mesh.bytes, triangles: mesh.triangles, textureSize: options.texture, textureBytes: mesh.textureBytes,
            validation: validationSummary(mesh.validation), seconds: mesh.seconds, stages: mesh.mesh.stats.seconds,
          };
          lines.push(
            `mesh: ${mesh.triangles.join(' / ')} triangles, ${options.texture}² ${options.textureFormat} texture, ${(mesh.bytes / 1e6).toFixed(2)} MB, ` +
              `validator ${mesh.validation.errors} errors ${mesh.validation.warnings} warnings, ${formatDuration(mesh.seconds.total)}\n  ${paths.mesh}`,
          );
        }
        if (paths.splats) {
          out.progress('export: splats');
          const splats = await exportSplatsGlb(field, paths.splats, {
            resolution: Math.min(options.resolution, SPLAT_EXTRACT_DEFAULTS.resolution), iso: surface, maxSplats: options.splats,
            pivot: options.pivot as Pivot, plyPath: paths.ply,
          });
          result.splats = {
            output: paths.splats, ply: paths.ply ?? null, count: splats.cloud.count, bytes: splats.bytes, plyBytes: splats.plyBytes ?? null,
            validation: validationSummary(splats.validation), seconds: splats.seconds,
          };
          lines.push(
            `splats: ${splats.cloud.count} Gaussians, ${(splats.bytes / 1e6).toFixed(2)} MB, validator ${splats.validation.errors} errors, ${formatDuration(splats.seconds)}\n  ${paths.splats}` +
              (paths.ply ? `\n  ${paths.ply}` : ''),
          );
        }
        const seconds = (performance.now() - started) / 1000;
        result.seconds = seconds;
        out.result(`exported at iso ${surface.toFixed(1)} in ${formatDuration(seconds)}\n${lines.join('\n')}`, result);
      } finally {
        await field.close();
      }
    });
}

function positiveNumberOrFail(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Head3dError(`--iso must be a positive density or auto, not "${value}"`);
  return n;
}
