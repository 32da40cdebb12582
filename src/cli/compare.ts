import { stat } from 'node:fs/promises';
import { extname, join, posix, resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { Head3dError, fileError } from '../core/errors.js';
import { type RgbaImage, readImage } from '../core/image.js';
import { type ViewFrame, type ViewSet, frameImagePath, readTransformsJson } from '../core/transforms-json.js';
import { BLACK, type ImageComparison, type Rgb, WHITE, compareImages } from '../eval/metrics.js';
import { outputFor } from './program.js';

const BACKGROUNDS = { black: BLACK, white: WHITE } satisfies Record<string, Rgb>;

interface CompareCliOptions {
  background: keyof typeof BACKGROUNDS;
}

/** What a `compare` argument names: one image, or a view set through its transforms.json. */
type CompareInput = { kind: 'image'; path: string } | { kind: 'views'; path: string };

/** The four metrics of one pair; in JSON, Infinity (identical) and NaN (empty mask) become null. */
type Scores = Pick<ImageComparison, 'psnr' | 'ssim' | 'maskedPsnr' | 'maskedSsim'>;

interface ViewScores extends ImageComparison {
  filePath: string;
}

/**
 * `head3d compare <a> <b>`: PSNR and SSIM (plain, and over the union of both alphas) between two
 * images, or per view between two view sets plus their means. Both sides are composited over
 * `--background` first (see eval/metrics.ts). A mean PSNR is `inf` when any view is identical.
 */
export function registerCompare(program: Command): void {
  program
    .command('compare')
    .description(
      'PSNR and SSIM between two images or two view sets (directories or transforms.json files, frames matched by file_path); ' +
        'masked scores use the union of both alphas',
    )
    .argument('<a>', 'image, view-set directory or transforms.json')
    .argument('<b>', 'the same kind as <a>')
    .addOption(
      new Option('--background <colour>', 'colour both images are composited over before comparing')
        .choices(Object.keys(BACKGROUNDS))
        .default('black'),
    )
    .action(async (pathA: string, pathB: string, options: CompareCliOptions, command: Command) => {
      const out = outputFor(command);
      const background = BACKGROUNDS[options.background];
      const [a, b] = await Promise.all([compareInput(pathA), compareInput(pathB)]);
      if (a.kind !== b.kind) {
        throw new Head3dError(`cannot compare ${a.kind === 'image' ? 'an image' : 'a view set'} with ${b.kind === 'image' ? 'an image' : 'a view set'}`, {
          hint: 'pass two image files, or two view sets (directories holding a transforms.json, or transforms.json files)',
        });
      }
      const common = { a: a.path, b: b.path, background: options.background };

      if (a.kind === 'image') {
        const result = await compareImageFiles(a.path, b.path, background);
        out.result(imageReport(result, common), { kind: 'images', ...common, ...result });
        return;
      }

      const views = await compareViewSets(a.path, b.path, background, (done, total) => out.progress(`compare: ${done}/${total} views`));
      const mean = meanScores(views);
      out.result(viewsReport(views, mean, common), { kind: 'views', ...common, views, mean });
    });
}

async function compareInput(path: string): Promise<CompareInput> {
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(path)).isDirectory();
  } catch (error) {
    throw fileError(error, path);
  }
  if (isDirectory) {
    const transformsPath = join(path, 'transforms.json');
    const hasTransforms = await stat(transformsPath).then((s) => s.isFile(), () => false);
    if (!hasTransforms) {
      throw new Head3dError(`${path} is a directory without a transforms.json`, {
        hint: 'pass a view-set directory (as render-views writes) or image files',
      });
    }
    return { kind: 'views', path: resolve(transformsPath) };
  }
  return { kind: extname(path).toLowerCase() === '.json' ? 'views' : 'image', path: resolve(path) };
}

async function compareImageFiles(pathA: string, pathB: string, background: Rgb): Promise<ImageComparison> {
  const [a, b] = await Promise.all([readImage(pathA), readImage(pathB)]);
  assertSameSize(a, pathA, b, pathB);
  return compareImages(a, b, background);
}

function assertSameSize(a: RgbaImage, pathA: string, b: RgbaImage, pathB: string): void {
  if (a.width !== b.width || a.height !== b.height) {
    throw new Head3dError(`image sizes differ: ${pathA} is ${a.width}×${a.height}, ${pathB} is ${b.width}×${b.height}`, {
      hint: 'compare renders made at the same size',
    });
  }
}

async function compareViewSets(
  transformsA: string,
  transformsB: string,
  background: Rgb,
  onProgress: (done: number, total: number) => void,
): Promise<ViewScores[]> {
  const [setA, setB] = await Promise.all([readTransformsJson(transformsA), readTransformsJson(transformsB)]);
  const pairs = matchFrames(setA, transformsA, setB, transformsB);
  const views: ViewScores[] = [];
  for (const [key, frameA, frameB] of pairs) {
    const comparison = await compareImageFiles(frameImagePath(setA, frameA), frameImagePath(setB, frameB), background);
    views.push({ filePath: key, ...comparison });
    onProgress(views.length, pairs.length);
  }
  return views;
}

/** Pairs frames with the same file_path, in the order of A; any frame without a partner is an error. */
function matchFrames(setA: ViewSet, pathA: string, setB: ViewSet, pathB: string): [string, ViewFrame, ViewFrame][] {
  const framesA = framesByPath(setA, pathA);
  const framesB = framesByPath(setB, pathB);
  const missingFromB = [...framesA.keys()].filter((key) => !framesB.has(key));
  const missingFromA = [...framesB.keys()].filter((key) => !framesA.has(key));
  if (missingFromA.length > 0 || missingFromB.length > 0) {
    const parts = [];
    if (missingFromB.length > 0) parts.push(`${pathB} lacks ${listSome(missingFromB)}`);
    if (missingFromA.length > 0) parts.push(`${pathA} lacks ${listSome(missingFromA)}`);
    throw new Head3dError(`the view sets hold different frames: ${parts.join('; ')}`, {
      hint: 'compare view sets with the same file_path entries, e.g. renders from the same transforms.json',
    });
  }
  return [...framesA].map(([key, frameA]) => [key, frameA, framesB.get(key)!]);
}

function framesByPath(viewSet: ViewSet, path: string): Map<string, ViewFrame> {
  const frames = new Map<string, ViewFrame>();
  for (const frame of viewSet.frames) {
    const key = frameKey(frame.filePath);
    if (frames.has(key)) throw new Head3dError(`${path} lists the frame ${key} twice`, { hint: 'remove the duplicate frame' });
    frames.set(key, frame);
  }
  return frames;
}

/** "./images\\a.png" and "images/a.png" name the same frame. */
function frameKey(filePath: string): string {
  return posix.normalize(filePath.split('\\').join('/')).replace(/^\.\//, '');
}

function listSome(names: string[], shown = 5): string {
  const head = names.slice(0, shown).join(', ');
  return names.length > shown ? `${head} and ${names.length - shown} more` : head;
}

/** Mean of each score over the views; NaN entries (empty masks) are left out. */
function meanScores(views: Scores[]): Scores {
  const mean = (key: keyof Scores) => {
    const values = views.map((v) => v[key]).filter((v) => !Number.isNaN(v));
    return values.length === 0 ? NaN : values.reduce((sum, v) => sum + v, 0) / values.length;
  };
  return { psnr: mean('psnr'), ssim: mean('ssim'), maskedPsnr: mean('maskedPsnr'), maskedSsim: mean('maskedSsim') };
}

function formatPsnr(value: number): string {
  if (Number.isNaN(value)) return 'n/a';
  return value === Infinity ? 'inf' : value.toFixed(2);
}

function formatSsim(value: number): string {
  return Number.isNaN(value) ? 'n/a' : value.toFixed(4);
}

function imageReport(result: ImageComparison, common: { a: string; b: string; background: string }): string {
  return [
    `${common.a}\n  vs ${common.b}`,
    `  ${result.width}×${result.height}, composited on ${common.background}`,
    `  PSNR ${formatPsnr(result.psnr)} dB   SSIM ${formatSsim(result.ssim)}`,
    `  masked (alpha union, ${(100 * result.maskCoverage).toFixed(1)}% of pixels): ` +
      `PSNR ${formatPsnr(result.maskedPsnr)} dB   SSIM ${formatSsim(result.maskedSsim)}`,
  ].join('\n');
}

function viewsReport(views: ViewScores[], mean: Scores, common: { a: string; b: string; background: string }): string {
  const nameWidth = Math.max(4, ...views.map((v) => v.filePath.length));
  const row = (name: string, s: Scores, coverage: string) =>
    `${name.padEnd(nameWidth)}  ${formatPsnr(s.psnr).padStart(7)}  ${formatSsim(s.ssim).padStart(6)}  ` +
    `${formatPsnr(s.maskedPsnr).padStart(7)}  ${formatSsim(s.maskedSsim).padStart(6)}  ${coverage.padStart(5)}`.trimEnd();
  return [
    `${common.a}\n  vs ${common.b}`,
    `  ${views.length} views, composited on ${common.background}; masked scores (m…) over the union of both alphas`,
    '',
    `${'view'.padEnd(nameWidth)}  ${'PSNR'.padStart(7)}  ${'SSIM'.padStart(6)}  ${'mPSNR'.padStart(7)}  ${'mSSIM'.padStart(6)}  ${'mask'.padStart(5)}`,
    ...views.map((v) => row(v.filePath, v, `${Math.round(100 * v.maskCoverage)}%`)),
    row('mean', mean, ''),
  ].join('\n');
}
