import { resolve } from 'node:path';
import type { Command } from 'commander';
import { Head3dError } from '../core/errors.js';
import { formatDuration } from '../core/output.js';
import { loadTexturedMesh } from '../eval/load-mesh.js';
import { transformMesh, triangleCount } from '../eval/mesh.js';
import { type Axis, isAxis, normalizeHead } from '../eval/normalize-head.js';
import { RENDER_VIEWS_DEFAULTS, renderViews } from '../eval/render-views.js';
import { outputFor } from './program.js';
import { nonNegativeInteger, numberList, positiveInteger, positiveNumber } from './options.js';

interface RenderViewsCliOptions {
  output: string;
  texture?: string;
  flipV?: boolean;
  size: number;
  frames: number;
  elevations?: number[];
  holdout: number;
  supersample: number;
  up: string;
  front: string;
  headHeight?: number;
  normalize: boolean;
}

export function registerRenderViews(program: Command): void {
  program
    .command('render-views')
    .description("render a textured mesh into a view set on PanoHead's 360° orbit (RGBA PNGs + transforms.json)")
    .argument('<mesh>', '.glb, .gltf or .obj')
    .requiredOption('-o, --output <dir>', 'output directory')
    .option('--texture <image>', 'base-colour texture (for meshes without an embedded one)')
    .option('--flip-v', 'flip texture v (assets made for flipY=true loaders, e.g. three.js examples)')
    .option('--size <px>', 'image size', positiveInteger, RENDER_VIEWS_DEFAULTS.size)
    .option('--frames <n>', 'frames per ring', positiveInteger, RENDER_VIEWS_DEFAULTS.frames)
    .option('--elevations <deg,...>', 'extra rings at these elevations (degrees)', numberList)
    .option('--holdout <n>', 'held-out views off the rings, written to holdout/', nonNegativeInteger, 0)
    .option('--supersample <n>', 'samples per pixel along each axis', positiveInteger, RENDER_VIEWS_DEFAULTS.supersample)
    .option('--up <axis>', "the mesh's up axis", '+y')
    .option('--front <axis>', 'the direction the face looks in the mesh', '+z')
    .option('--head-height <units>', 'crown-to-neck height in world units', positiveNumber)
    .option('--no-normalize', 'use the mesh coordinates as they are (already in PanoHead world)')
    .action(async (meshPath: string, options: RenderViewsCliOptions, command: Command) => {
      const out = outputFor(command);
      for (const [name, axis] of [['--up', options.up], ['--front', options.front]] as const) {
        if (!isAxis(axis)) throw new Head3dError(`${name} must be one of +x -x +y -y +z -z, not "${axis}"`);
      }
      const started = performance.now();
      let mesh = await loadTexturedMesh(meshPath, { texture: options.texture, flipV: options.flipV });
      let normalization: number[] | null = null;
      if (options.normalize) {
        const placed = normalizeHead(mesh, { up: options.up as Axis, front: options.front as Axis, headHeight: options.headHeight });
        normalization = placed.matrix;
        mesh = transformMesh(mesh, placed.matrix);
      }
      const outDir = resolve(options.output);
      const result = await renderViews(mesh, outDir, {
        size: options.size,
        frames: options.frames,
        elevations: options.elevations ?? [],
        holdout: options.holdout,
        supersample: options.supersample,
        metadata: { head3d: { source: resolve(meshPath), world: 'panohead', normalization } },
        onProgress: (done, total) => out.progress(`render-views: ${done}/${total} views`),
      });
      const seconds = (performance.now() - started) / 1000;
      out.result(
        `rendered ${result.views} views${result.holdoutViews ? ` + ${result.holdoutViews} held out` : ''} of ${triangleCount(mesh)} triangles at ${options.size}² in ${formatDuration(seconds)}\n` +
          `  ${result.transformsPath}${result.holdoutTransformsPath ? `\n  ${result.holdoutTransformsPath}` : ''}`,
        { ...result, triangles: triangleCount(mesh), size: options.size, seconds },
      );
    });
}
