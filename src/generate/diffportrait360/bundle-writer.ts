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
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { Head3dError } from '../../core/errors.js';
import { PANOHEAD_ORBIT_FRAMES } from '../../core/camera.js';
import { MODEL_KINDS, RUNTIME_GRAPHS, describeBundleFile, manifestFiles, writeManifest } from './bundle.js';
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
import { type ComputePrecision, type ExternalDataFile, type GraphBuilder, type WeightSource, externalDataFile } from './onnx/graph-builder.js';
import { type GraphName, type ModelKind, graphSignature } from './signatures.js';

/** Builds one graph of one model (the UNet-family graphs come from networks/graphs.ts). */
export type UNetFamilyGraph = Exclude<GraphName, 'vae_encoder' | 'vae_decoder' | 'clip_text'>;
export type GraphFactory = (config: DiffPortrait360Config, model: ModelKind, graph: UNetFamilyGraph, options?: { precision?: ComputePrecision }) => GraphBuilder;

/** The compute precision of a bundle's runtime graphs: fp32 for the CPU provider, fp16 for CUDA. */
export type BundlePrecision = BundleManifest['precision'];
export const COMPUTE_PRECISION: Record<BundlePrecision, ComputePrecision> = { fp32: 'float32', fp16: 'float16' };

/**
 * Graphs that hold the same weights as another graph of the same model and reference its
 * external-data file instead of writing their own: the UNet's uncond pass uses exactly the
 * `model.diffusion_model.*` weights of the cond pass (8.5 GB of the full-size fp32 bundle).
 */
export const SHARED_WEIGHTS: Partial<Record<GraphName, GraphName>> = { unet_uncond: 'unet_cond' };

/**
 * The external-data threshold of graphs that share weights (both sides of SHARED_WEIGHTS): only
 * external tensors can be shared, so all but the smallest go there whatever the bundle's threshold.
 */
export const SHARED_EXTERNAL_DATA_THRESHOLD = 4096;
const sharesWeights = (graph: GraphName): boolean => Object.entries(SHARED_WEIGHTS).some(([a, b]) => a === graph || b === graph);

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
  /**
   * Default DEFAULT_EXTERNAL_DATA_THRESHOLD (1 MiB): full-size graphs never reach 2 GB. The UNet
   * graphs, which share one external-data file, use at most SHARED_EXTERNAL_DATA_THRESHOLD.
   */
  externalDataThreshold?: number;
  /**
   * Compute precision of the runtime graphs: 'fp32' (default; the CPU provider) or 'fp16' (CUDA;
   * half the size, norms and softmax stay fp32). The CLIP graph, run once here, stays fp32.
   */
  precision?: BundlePrecision;
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

/** `graphs` with the ones that reuse another graph's weights (SHARED_WEIGHTS) last. */
function sharingLast(graphs: readonly GraphName[]): GraphName[] {
  return [...graphs].sort((a, b) => Number(SHARED_WEIGHTS[a] !== undefined) - Number(SHARED_WEIGHTS[b] !== undefined));
}

/** The graph of `graph` for `model`: VAE and CLIP (always fp32) here, everything else from `unetGraphs`. */
export function bundleGraph(config: DiffPortrait360Config, model: ModelKind, graph: GraphName, unetGraphs: GraphFactory, precision: BundlePrecision = 'fp32'): GraphBuilder {
  const options = { precision: COMPUTE_PRECISION[precision] };
  switch (graph) {
    case 'vae_encoder':
      return buildVaeEncoderGraph(config, options);
    case 'vae_decoder':
      return buildVaeDecoderGraph(config, options);
    case 'clip_text':
      return buildClipTextGraph(config);
    default:
      return precision === 'fp32' ? unetGraphs(config, model, graph) : unetGraphs(config, model, graph, options);
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
  const precision = options.precision ?? 'fp32';
  if (precision !== 'fp32' && precision !== 'fp16') throw new Head3dError(`precision must be fp32 or fp16, not ${String(precision)}`);
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
  await checkFreeSpace(dirname(finalDir), estimateBundleBytes(config, options.unetGraphs, precision));
  const tmp = temporarySibling(finalDir, 'tmp');
  try {
    await mkdir(join(tmp, 'graphs'), { recursive: true });
    await mkdir(join(tmp, 'hints'), { recursive: true });
    const graphs: Record<string, BundleGraph> = {};
    const total = MODEL_KINDS.length * RUNTIME_GRAPHS.length;
    let done = 0;
    for (const model of MODEL_KINDS) {
      // Sharing graphs are written after the graph whose external-data file they reuse.
      const order = sharingLast(RUNTIME_GRAPHS);
      const dataFiles = new Map<GraphName, ExternalDataFile>();
      const externalFiles = new Map<GraphName, string>();
      for (const graph of order) {
        progress(`models: graph ${++done}/${total}: ${model} ${graph}`);
        const file = graphFileName(model, graph);
        const owner = SHARED_WEIGHTS[graph];
        const externalData = (owner && dataFiles.get(owner)) || externalDataFile(join(tmp, `${file}.data`));
        const externalDataThreshold = sharesWeights(graph) ? Math.min(threshold, SHARED_EXTERNAL_DATA_THRESHOLD) : threshold;
        const written = await bundleGraph(config, model, graph, options.unetGraphs, precision).write(join(tmp, file), weights[model], { externalDataThreshold, externalData });
        dataFiles.set(graph, written.externalData);
        if (written.externalDataFile) externalFiles.set(graph, relative(tmp, written.externalDataFile).split(sep).join('/'));
        if (written.reusedTensors > 0) progress(`models: ${model} ${graph} shares ${written.reusedTensors} weights with ${owner}`);
      }
      // Described after all graphs of the model: a shared external-data file grows until the last one.
      for (const graph of RUNTIME_GRAPHS) {
        const file = graphFileName(model, graph);
        const entry: BundleGraph = { ...(await describeBundleFile(tmp, file)), model, graph, signature: graphSignature(config, model, graph) };
        const external = externalFiles.get(graph);
        if (external) entry.externalData = await describeBundleFile(tmp, external);
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
      precision,
      source: options.source,
      graphs,
      contexts,
      hints: hintFiles,
      hintSource: options.hintSource,
      sampler: { ...DEFAULT_SAMPLER },
    };
    await writeManifest(tmp, manifest);
    await replaceFolder(tmp, finalDir);
    const listed = manifestFiles(manifest);
    const files = 1 + listed.length;
    const bytes = listed.reduce((n, f) => n + f.bytes, 0);
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

/**
 * Bytes of the weights in all runtime graphs of both models (the bundle's size within ~1%): each
 * in its stored type, the weights a graph shares with another (SHARED_WEIGHTS) counted once.
 */
export function estimateBundleBytes(config: DiffPortrait360Config, unetGraphs: GraphFactory, precision: BundlePrecision = 'fp32'): number {
  let bytes = 0;
  for (const model of MODEL_KINDS) {
    const names = new Map<GraphName, Set<string>>();
    for (const graph of sharingLast(RUNTIME_GRAPHS)) {
      const builder = bundleGraph(config, model, graph, unetGraphs, precision);
      const shared = names.get(SHARED_WEIGHTS[graph] ?? graph) ?? new Set<string>();
      for (const p of builder.params) {
        if (shared.has(p.name)) continue;
        shared.add(p.name);
        bytes += p.shape.reduce((a, b) => a * b, 1) * (builder.paramType(p.name) === 'float16' ? 2 : 4);
      }
      names.set(graph, shared);
    }
  }
  return bytes;
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
