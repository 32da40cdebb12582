/**
 * Writes a complete DiffPortrait360 model bundle (layout in bundle-manifest.ts) from a weight
 * source per model: every runtime graph of both models, the empty-prompt context of each model
 * (computed by running its own clip_text graph once in onnxruntime-node), the 32 hint images and
 * the manifest with the sha256 of every file. Everything is written into a temporary sibling folder
 * that is renamed to the final name at the end, so a bundle folder is always complete.
 *
 * `head3d models random` and `head3d models convert` are thin callers: they only differ in their
 * weight sources, hints and source record.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdir, readdir, rename, rm, statfs, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { Head3dError } from '../../core/errors.js';
import { PANOHEAD_ORBIT_FRAMES } from '../../core/camera.js';
import { MODEL_KINDS, RUNTIME_GRAPHS, describeBundleFile, writeManifest } from './bundle.js';
import {
  BUNDLE_FORMAT,
  BUNDLE_VERSION,
  type BundleFile,
  type BundleGraph,
  type BundleManifest,
  type BundleSource,
  DEFAULT_SAMPLER,
  graphFileName,
  graphKey,
} from './bundle-manifest.js';
import type { DiffPortrait360Config } from './config.js';
import { buildClipTextGraph, emptyPromptIds } from './networks/clip-text.js';
import { buildVaeDecoderGraph, buildVaeEncoderGraph } from './networks/vae.js';
import type { GraphBuilder, WeightSource } from './onnx/graph-builder.js';
import { type GraphName, type ModelKind, graphSignature } from './signatures.js';

/** Builds one graph of one model (the UNet-family graphs come from networks/graphs.ts). */
export type UNetFamilyGraph = Exclude<GraphName, 'vae_encoder' | 'vae_decoder' | 'clip_text'>;
export type GraphFactory = (config: DiffPortrait360Config, model: ModelKind, graph: UNetFamilyGraph) => GraphBuilder;

/** Initializers of at least this many bytes go to the graph's `.onnx.data` file (ONNX external data). */
export const DEFAULT_EXTERNAL_DATA_THRESHOLD = 2 ** 20;

export interface WriteBundleOptions {
  config: DiffPortrait360Config;
  /** Weights of each model, keyed by state-dict key (= initializer name). */
  weights: Record<ModelKind, WeightSource>;
  /** The UNet-family graphs (appearance, controlnet, unet_cond, unet_uncond); VAE and CLIP are built here. */
  unetGraphs: GraphFactory;
  /** The 32 hint images as PNG files (RGB), in orbit order. */
  hints: Uint8Array[];
  /** Where the hints come from, recorded in the manifest (e.g. that they are synthetic). */
  hintSource: string;
  source: BundleSource;
  /** Default DEFAULT_EXTERNAL_DATA_THRESHOLD (1 MiB): tiny graphs stay single files, full-size ones never reach 2 GB. */
  externalDataThreshold?: number;
  /** Replace an existing bundle at the output path (default: refuse). */
  force?: boolean;
  onProgress?: (message: string) => void;
}

export interface WrittenBundle {
  dir: string;
  manifest: BundleManifest;
  /** Total bytes of all files in the bundle. */
  bytes: number;
  files: number;
}

/** The graph of `graph` for `model`: VAE and CLIP here, everything else from `unetGraphs`. */
export function bundleGraph(config: DiffPortrait360Config, model: ModelKind, graph: GraphName, unetGraphs: GraphFactory): GraphBuilder {
  switch (graph) {
    case 'vae_encoder':
      return buildVaeEncoderGraph(config);
    case 'vae_decoder':
      return buildVaeDecoderGraph(config);
    case 'clip_text':
      return buildClipTextGraph(config);
    default:
      return unetGraphs(config, model, graph);
  }
}

function temporarySibling(path: string, tag: string): string {
  return join(dirname(path), `.${basename(path)}.${tag}-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** Refuses an output path that exists (unless `force`) or whose parent is not a folder. */
export function checkBundleOutput(out: string, force = false): void {
  if (existsSync(out)) {
    if (!force) throw new Head3dError(`${out} already exists`, { hint: 'pass --force to replace it, or choose another output folder' });
    if (!statSync(out).isDirectory()) throw new Head3dError(`${out} exists and is not a folder`, { hint: 'choose another output path' });
  }
  const parent = dirname(resolve(out));
  if (existsSync(parent) && !statSync(parent).isDirectory()) throw new Head3dError(`cannot write ${out}: ${parent} is a file`, { hint: 'choose another output path' });
}

/**
 * Runs the clip_text graph of `model` (written to a scratch file, deleted afterwards) on the empty
 * prompt: CLIP-L("") as float32 [1, contextLength, width].
 */
export async function emptyPromptContext(
  config: DiffPortrait360Config,
  weights: WeightSource,
  scratchDir: string,
  externalDataThreshold = DEFAULT_EXTERNAL_DATA_THRESHOLD,
): Promise<Float32Array> {
  const ort = await import('onnxruntime-node');
  const file = join(scratchDir, `clip_text-${randomBytes(4).toString('hex')}.onnx`);
  const written = await buildClipTextGraph(config).write(file, weights, { externalDataThreshold });
  try {
    const session = await ort.InferenceSession.create(file);
    try {
      const length = config.clip.contextLength;
      const result = await session.run({ input_ids: new ort.Tensor('int64', emptyPromptIds(length), [1, length]) });
      const hidden = result.last_hidden_state!.data as Float32Array;
      if (!hidden.every((v) => Number.isFinite(v))) throw new Head3dError('CLIP text encoder gave non-finite values for the empty prompt', { hint: 'the checkpoint weights are damaged' });
      return hidden;
    } finally {
      await session.release();
    }
  } finally {
    await rm(file, { force: true });
    if (written.externalDataFile) await rm(written.externalDataFile, { force: true });
  }
}

function littleEndian(values: Float32Array): Uint8Array {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return bytes;
}

/**
 * Writes the bundle to `out` (a folder) atomically: built in a hidden temporary sibling, renamed
 * at the end; on failure the temporary folder is removed and `out` is left as it was.
 *
 * @example
 * await writeBundle('models/dp360', { config: FULL_CONFIG, weights: { back, orbit }, unetGraphs: buildGraph,
 *   hints, hintSource: 'sphere32 from inference_data.zip', source, onProgress: console.error });
 */
export async function writeBundle(out: string, options: WriteBundleOptions): Promise<WrittenBundle> {
  const { config, weights, hints } = options;
  const progress = options.onProgress ?? (() => {});
  const threshold = options.externalDataThreshold ?? DEFAULT_EXTERNAL_DATA_THRESHOLD;
  if (hints.length !== PANOHEAD_ORBIT_FRAMES) throw new Head3dError(`a bundle needs ${PANOHEAD_ORBIT_FRAMES} hint images, got ${hints.length}`);
  if (config.clip.width !== config.unet.contextDim) {
    throw new Head3dError(`config ${config.name}: CLIP width ${config.clip.width} differs from the UNet context width ${config.unet.contextDim}`);
  }
  checkBundleOutput(out, options.force);
  const finalDir = resolve(out);
  await mkdir(dirname(finalDir), { recursive: true });
  // A write killed before its rename leaves a hidden temporary folder (GBs at full size): remove those of dead processes.
  for (const stale of await leftoverTemporaries(finalDir)) {
    const pid = Number(/\.tmp-(\d+)-[0-9a-f]+$/.exec(stale)?.[1]);
    if (Number.isInteger(pid) && pid !== process.pid && !processAlive(pid)) {
      progress(`models: removing ${basename(stale)} left by an interrupted write`);
      await rm(stale, { recursive: true, force: true });
    }
  }
  await checkFreeSpace(dirname(finalDir), estimateBundleBytes(config, options.unetGraphs));
  const tmp = temporarySibling(finalDir, 'tmp');
  try {
    await mkdir(join(tmp, 'graphs'), { recursive: true });
    await mkdir(join(tmp, 'hints'), { recursive: true });
    const graphs: Record<string, BundleGraph> = {};
    const total = MODEL_KINDS.length * RUNTIME_GRAPHS.length;
    let done = 0;
    for (const model of MODEL_KINDS) {
      for (const graph of RUNTIME_GRAPHS) {
        progress(`models: graph ${++done}/${total}: ${model} ${graph}`);
        const file = graphFileName(model, graph);
        const written = await bundleGraph(config, model, graph, options.unetGraphs).write(join(tmp, file), weights[model], { externalDataThreshold: threshold });
        const entry: BundleGraph = { ...(await describeBundleFile(tmp, file)), model, graph, signature: graphSignature(config, model, graph) };
        if (written.externalDataFile) entry.externalData = await describeBundleFile(tmp, `${file}.data`);
        graphs[graphKey(model, graph)] = entry;
      }
    }
    const contexts = {} as BundleManifest['contexts'];
    for (const model of MODEL_KINDS) {
      progress(`models: CLIP context of the ${model} model`);
      const context = await emptyPromptContext(config, weights[model], tmp, threshold);
      const file = `context_${model}.bin`;
      await writeFile(join(tmp, file), littleEndian(context));
      contexts[model] = { ...(await describeBundleFile(tmp, file)), shape: [1, config.clip.contextLength, config.unet.contextDim] };
    }
    progress('models: hints');
    const hintFiles: BundleFile[] = [];
    for (let i = 0; i < hints.length; i++) {
      const file = `hints/${String(i).padStart(2, '0')}.png`;
      await writeFile(join(tmp, file), hints[i]!);
      hintFiles.push(await describeBundleFile(tmp, file));
    }
    const manifest: BundleManifest = {
      format: BUNDLE_FORMAT,
      version: BUNDLE_VERSION,
      config,
      precision: 'fp32',
      source: options.source,
      graphs,
      contexts,
      hints: hintFiles,
      hintSource: options.hintSource,
      sampler: { ...DEFAULT_SAMPLER },
    };
    await writeManifest(tmp, manifest);
    await replaceFolder(tmp, finalDir);
    const files = 1 + Object.values(graphs).reduce((n, g) => n + (g.externalData ? 2 : 1), 0) + MODEL_KINDS.length + hintFiles.length;
    const bytes =
      Object.values(graphs).reduce((n, g) => n + g.bytes + (g.externalData?.bytes ?? 0), 0) +
      MODEL_KINDS.reduce((n, m) => n + contexts[m].bytes, 0) +
      hintFiles.reduce((n, h) => n + h.bytes, 0);
    return { dir: finalDir, manifest, bytes, files };
  } catch (error) {
    await rm(tmp, { recursive: true, force: true });
    throw error;
  }
}

/** Renames `from` to `to`, moving an existing `to` aside first and deleting it afterwards. */
async function replaceFolder(from: string, to: string): Promise<void> {
  if (!existsSync(to)) {
    await rename(from, to);
    return;
  }
  const old = temporarySibling(to, 'old');
  await rename(to, old);
  try {
    await rename(from, to);
  } catch (error) {
    await rename(old, to);
    throw error;
  }
  await rm(old, { recursive: true, force: true });
}

/** Bytes of float32 weights in all runtime graphs of both models (the bundle's size within ~1%). */
export function estimateBundleBytes(config: DiffPortrait360Config, unetGraphs: GraphFactory): number {
  let values = 0;
  for (const model of MODEL_KINDS) {
    for (const graph of RUNTIME_GRAPHS) for (const p of bundleGraph(config, model, graph, unetGraphs).params) values += p.shape.reduce((a, b) => a * b, 1);
  }
  return 4 * values;
}

async function checkFreeSpace(dir: string, bytes: number): Promise<void> {
  let free: number;
  try {
    const stats = await statfs(dir);
    free = stats.bavail * stats.bsize;
  } catch {
    return; // no statfs here: let the write fail with ENOSPC if it must
  }
  // The clip_text graph (scratch) and the small files come on top of the weights.
  const needed = bytes * 1.05 + 2 ** 30;
  if (free < needed) {
    const gb = (n: number) => `${(n / 1e9).toFixed(1)} GB`;
    throw new Head3dError(`the bundle needs about ${gb(needed)} in ${dir}, only ${gb(free)} is free`, { hint: 'free some space or write the bundle to another disk' });
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Leftover temporary folders of interrupted writes beside `out` (for cleanup tools and tests). */
export async function leftoverTemporaries(out: string): Promise<string[]> {
  const dir = dirname(resolve(out));
  if (!existsSync(dir)) return [];
  const prefix = `.${basename(resolve(out))}.`;
  return (await readdir(dir)).filter((name) => name.startsWith(prefix)).map((name) => join(dir, name));
}
