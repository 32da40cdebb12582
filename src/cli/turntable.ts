import { extname, resolve } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { Head3dError } from '../core/errors.js';
import { formatDuration } from '../core/output.js';
import { TURNTABLE_DEFAULTS, renderTurntable, writeAnimatedWebp, writeContactSheet } from '../viewer/headless/turntable.js';
import { outputFor } from './program.js';
import { positiveInteger } from './options.js';

interface TurntableCliOptions {
  output: string;
  views: number;
  size: number;
  columns?: number;
  pitch: number;
  fov: number;
  background: string;
  unlit?: boolean;
  exposure: number;
  webp?: string | boolean;
  delay: number;
}

/** Any finite number (negative allowed), for angles and factors. */
function numberOption(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('expected a number.');
  return n;
}

/**
 * `head3d turntable head.glb -o turntable.png`: a contact sheet of N views around the head, drawn
 * by `<head3d-viewer>` in headless Chromium, plus an optional looping animated WebP.
 */
export function registerTurntable(program: Command): void {
  program
    .command('turntable')
    .description('render N views around a glb in headless Chromium as a contact sheet (PNG) and optionally an animated WebP')
    .argument('<glb>', 'a .glb (mesh or splats) as head3d export writes it')
    .requiredOption('-o, --output <sheet.png>', 'contact sheet (PNG)')
    .option('--views <n>', 'views, evenly spaced in yaw from the front', positiveInteger, TURNTABLE_DEFAULTS.views)
    .option('--size <px>', 'size of each (square) view', positiveInteger, TURNTABLE_DEFAULTS.size)
    .option('--columns <n>', 'views per row (default ⌈√views⌉)', positiveInteger)
    .option('--pitch <deg>', 'camera pitch, positive looks down', numberOption, TURNTABLE_DEFAULTS.pitch)
    .option('--fov <deg>', 'vertical field of view', numberOption, TURNTABLE_DEFAULTS.fov)
    .option('--background <css>', 'colour behind the views, or transparent', '#ffffff')
    .option('--exposure <x>', 'exposure of the lit render', numberOption, TURNTABLE_DEFAULTS.exposure)
    .option('--unlit', 'no lights: the baked texture as is')
    .option('--webp [file]', 'also write an animated WebP (default: beside the sheet, .webp)')
    .option('--delay <ms>', 'animated WebP frame delay', positiveInteger, 120)
    .action(async (glb: string, options: TurntableCliOptions, command: Command) => {
      const out = outputFor(command);
      const sheet = resolve(options.output);
      if (extname(sheet).toLowerCase() !== '.png') throw new Head3dError(`turntable: the contact sheet must be a .png (got ${options.output})`, { hint: 'e.g. -o turntable.png' });
      const webp = options.webp === true ? sheet.replace(/\.png$/i, '.webp') : typeof options.webp === 'string' ? resolve(options.webp) : undefined;
      if (options.fov <= 0 || options.fov >= 120) throw new Head3dError(`--fov must be between 0 and 120 degrees (got ${options.fov})`);
      if (Math.abs(options.pitch) > 85) throw new Head3dError(`--pitch must be within ±85 degrees (got ${options.pitch})`);
      out.progress(`turntable: rendering ${options.views} views of ${glb} in headless Chromium`);
      const result = await renderTurntable(glb, {
        views: options.views, size: options.size, pitch: options.pitch, fov: options.fov,
        shading: options.unlit ? 'unlit' : 'lit', exposure: options.exposure,
      });
      const written = await writeContactSheet(result.frames, sheet, { columns: options.columns, background: options.background });
      const webpBytes = webp ? await writeAnimatedWebp(result.frames, webp, { delayMs: options.delay, background: options.background }) : undefined;
      const seconds = result.seconds.load + result.seconds.render;
      out.result(
        `turntable: ${options.views} views of a ${result.kind} (${result.backend}) in ${formatDuration(seconds)}\n  ${sheet} (${written.width}×${written.height})` +
          (webp ? `\n  ${webp} (${(webpBytes! / 1024).toFixed(0)} KiB)` : ''),
        { sheet, width: written.width, height: written.height, webp: webp ?? null, webpBytes: webpBytes ?? null, kind: result.kind, backend: result.backend, yaws: result.yaws, seconds: result.seconds },
      );
    });
}
