/**
 * Loading and validating a DiffPortrait360 model bundle (layout in bundle-manifest.ts), and writing
 * its manifest. Every problem is a one-line Head3dError that names the bundle and the wrong part.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { writeFileAtomic } from '../../core/atomic.js';
import { PANOHEAD_ORBIT_FRAMES } from '../../core/camera.js';
import { Head3dError } from '../../core/errors.js';
import { BUNDLE_FORMAT, BUNDLE_VERSION, type BundleFile, type BundleGraph, type BundleManifest, MANIFEST_FILE, graphKey } from './bundle-manifest.js';
import type { DiffPortrait360Config } from './config.js';
import { GRAPH_NAMES, type GraphName, type GraphSignature, type ModelKind, graphSignature } from './signatures.js';

/** The graphs a bundle must hold for each model (clip_text runs at conversion only). */
export const RUNTIME_GRAPHS: readonly GraphName[] = GRAPH_NAMES.filter((g) => g !== 'clip_text');
export const MODEL_KINDS: readonly ModelKind[] = ['back', 'orbit'];

/** Files below this size get their sha256 checked on every load; bigger ones only with `verify: 'all'`. */
export const SMALL_FILE_BYTES = 64 * 2 ** 20;

export interface LoadBundleOptions {
  /**
   * Which files' sha256 to check: 'small' (default: files under 64 MB, i.e. hints, contexts, small
   * graphs), 'all' (every file; the full-size graphs are GBs) or 'none'. Sizes are always checked.
   */
  verify?: 'small' | 'all' | 'none';
  /** Called before each file is hashed (for progress on big bundles). */
  onHash?: (file: string, bytes: number) => void;
}

/** A bundle that passed validation: its folder, its manifest and absolute paths of its parts. */
export interface Bundle {
  dir: string;
  manifest: BundleManifest;
  /** Files whose sha256 was checked during loading. */
  hashed: string[];
  graphPath(model: ModelKind, graph: GraphName): string;
  contextPath(model: ModelKind): string;
  hintPaths(): string[];
}

const REBUILD_HINT = 'convert the bundle again (head3d models convert) or copy it completely';

function bundleError(dir: string, message: string, hint = REBUILD_HINT): Head3dError {
  return new Head3dError(`DiffPortrait360 model bundle ${dir}: ${message}`, { hint });
}

/**
 * Reads `<dir>/manifest.json` and checks the whole bundle: format and version, the architecture
 * config, every runtime graph of both models with the signature the sampler expects, the 32 hint
 * images, the two empty-prompt contexts, file sizes and (per `verify`) sha256 digests.
 *
 * @example
 * const bundle = await loadBundle(process.env.HEAD3D_MODELS!);
 * bundle.graphPath('orbit', 'unet_cond'); // → …/graphs/orbit_unet_cond.onnx
 */
export async function loadBundle(dirArg: string, options: LoadBundleOptions = {}): Promise<Bundle> {
  const dir = resolve(dirArg);
  const verify = options.verify ?? 'small';
  if (!existsSync(dir)) throw new Head3dError(`DiffPortrait360 model bundle not found: ${dirArg}`, { hint: 'pass the folder made by head3d models convert (--models or HEAD3D_MODELS)' });
  if (!statSync(dir).isDirectory()) throw new Head3dError(`DiffPortrait360 model bundle must be a folder, not a file: ${dirArg}`, { hint: 'pass the folder that holds manifest.json' });
  const manifestPath = join(dir, MANIFEST_FILE);
  if (!existsSync(manifestPath)) throw bundleError(dirArg, `no ${MANIFEST_FILE}`, 'pass the folder made by head3d models convert');
  let manifest: BundleManifest;
  try {
    manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as BundleManifest;
  } catch (error) {
    throw bundleError(dirArg, `${MANIFEST_FILE} is not valid JSON (${(error as Error).message})`);
  }
  checkManifest(dirArg, manifest);
  const files = manifestFiles(manifest);
  const hashed: string[] = [];
  // Sizes first (cheap, and what a truncated copy fails), then the digests.
  const paths = files.map((file) => checkFile(dirArg, dir, file));
  for (const [i, file] of files.entries()) {
    const path = paths[i];
    if (verify === 'all' || (verify === 'small' && file.bytes < SMALL_FILE_BYTES)) {
      options.onHash?.(file.file, file.bytes);
      const digest = await sha256File(path);
      if (digest !== file.sha256.toLowerCase()) throw bundleError(dirArg, `${file.file} is damaged (sha256 ${digest.slice(0, 12)}…, manifest ${file.sha256.slice(0, 12)}…)`);
      hashed.push(file.file);
    }
  }
  return {
    dir,
    manifest,
    hashed,
    graphPath: (model, graph) => join(dir, manifest.graphs[graphKey(model, graph)].file),
    contextPath: (model) => join(dir, manifest.contexts[model].file),
    hintPaths: () => manifest.hints.map((h) => join(dir, h.file)),
  };
}

/**
 * Every file the manifest names (graphs, their external data, contexts, hints), each once: graphs
 * that share weights name the same external-data file.
 */
export function manifestFiles(manifest: BundleManifest): BundleFile[] {
  const files: BundleFile[] = [];
  const external = new Set<string>();
  for (const model of MODEL_KINDS) {
    for (const graph of RUNTIME_GRAPHS) {
      const entry = manifest.graphs[graphKey(model, graph)];
      files.push(entry);
      if (entry.externalData && !external.has(entry.externalData.file)) {
        external.add(entry.externalData.file);
        files.push(entry.externalData);
      }
    }
  }
  for (const model of MODEL_KINDS) files.push(manifest.contexts[model]);
  files.push(...manifest.hints);
  return files;
}

function checkManifest(dir: string, m: BundleManifest): void {
  if (typeof m !== 'object' || m === null) throw bundleError(dir, `${MANIFEST_FILE} is not an object`);
  if (m.format !== BUNDLE_FORMAT) throw bundleError(dir, `${MANIFEST_FILE} is not a head3d DiffPortrait360 bundle (format ${JSON.stringify(m.format)})`, 'pass the folder made by head3d models convert');
  if (m.version !== BUNDLE_VERSION) {
    throw bundleError(dir, `bundle version ${m.version}, this head3d reads version ${BUNDLE_VERSION}`, m.version > BUNDLE_VERSION ? 'update head3d' : REBUILD_HINT);
  }
  checkConfig(dir, m.config);
  if (m.precision !== 'fp32' && m.precision !== 'fp16') throw bundleError(dir, `precision must be fp32 or fp16, not ${JSON.stringify(m.precision)}`);
  checkSampler(dir, m);
  if (typeof m.graphs !== 'object' || m.graphs === null) throw bundleError(dir, 'the manifest lists no graphs');
  const externalFiles = new Map<string, BundleFile>();
  for (const model of MODEL_KINDS) {
    for (const graph of RUNTIME_GRAPHS) {
      const key = graphKey(model, graph);
      const entry = m.graphs[key] as BundleGraph | undefined;
      if (!entry) throw bundleError(dir, `graph ${key} is missing from the manifest`);
      if (entry.model !== model || entry.graph !== graph) throw bundleError(dir, `graph ${key} is labelled ${entry.model}/${entry.graph}`);
      checkFileEntry(dir, entry, `graph ${key}`);
      if (entry.externalData) {
        checkFileEntry(dir, entry.externalData, `external data of ${key}`);
        // A shared external-data file must be described the same way by every graph that names it.
        const seen = externalFiles.get(entry.externalData.file);
        if (seen && (seen.bytes !== entry.externalData.bytes || seen.sha256.toLowerCase() !== entry.externalData.sha256.toLowerCase())) {
          throw bundleError(dir, `graphs disagree on the size or sha256 of the shared external data ${entry.externalData.file}`);
        }
        externalFiles.set(entry.externalData.file, entry.externalData);
      }
      const expected = graphSignature(m.config, model, graph);
      const difference = signatureDifference(expected, entry.signature);
      if (difference) throw bundleError(dir, `graph ${key} has the wrong signature: ${difference}`, 'the bundle was made by another head3d version; convert it again');
    }
  }
  if (typeof m.contexts !== 'object' || m.contexts === null) throw bundleError(dir, 'the manifest lists no contexts');
  const contextShape = [1, m.config.clip.contextLength, m.config.unet.contextDim];
  for (const model of MODEL_KINDS) {
    const context = m.contexts[model];
    if (!context) throw bundleError(dir, `the ${model} model's context (CLIP of "") is missing from the manifest`);
    checkFileEntry(dir, context, `${model} context`);
    if (!sameShape(context.shape, contextShape)) throw bundleError(dir, `the ${model} context has shape [${context.shape}], expected [${contextShape}]`);
    if (context.bytes !== 4 * contextShape.reduce((a, b) => a * b, 1)) throw bundleError(dir, `the ${model} context is ${context.bytes} bytes, expected float32 [${contextShape}]`);
  }
  if (!Array.isArray(m.hints) || m.hints.length !== PANOHEAD_ORBIT_FRAMES) {
    throw bundleError(dir, `the manifest lists ${Array.isArray(m.hints) ? m.hints.length : 'no'} camera hints, expected ${PANOHEAD_ORBIT_FRAMES}`);
  }
  m.hints.forEach((hint, i) => checkFileEntry(dir, hint, `hint ${i}`));
}

function checkConfig(dir: string, c: DiffPortrait360Config): void {
  const bad = (what: string) => bundleError(dir, `config: ${what}`);
  const positiveInt = (v: unknown) => Number.isInteger(v) && (v as number) > 0;
  if (typeof c !== 'object' || c === null || !c.unet || !c.motion || !c.vae || !c.clip) throw bad('missing unet, motion, vae or clip section');
  if (!positiveInt(c.imageSize) || c.imageSize % 64 !== 0) throw bad(`imageSize ${c.imageSize} is not a positive multiple of 64`);
  const u = c.unet;
  if (!positiveInt(u.modelChannels) || u.modelChannels % 32 !== 0) throw bad(`unet.modelChannels ${u.modelChannels} is not a positive multiple of 32`);
  if (!Array.isArray(u.channelMult) || u.channelMult.length !== 4 || !u.channelMult.every(positiveInt)) throw bad('unet.channelMult must be 4 positive integers');
  if (u.numResBlocks !== 2) throw bad(`unet.numResBlocks must be 2, not ${u.numResBlocks}`);
  if (!Array.isArray(u.attentionResolutions) || !u.attentionResolutions.every(positiveInt)) throw bad('unet.attentionResolutions must be positive integers');
  if (!positiveInt(u.numHeads) || !positiveInt(u.contextDim) || !positiveInt(u.latentChannels)) throw bad('unet.numHeads, contextDim and latentChannels must be positive integers');
  if (!positiveInt(c.motion.videoLength) || !positiveInt(c.motion.numHeads) || !(c.motion.maxLength >= c.motion.videoLength)) throw bad('motion.videoLength/numHeads/maxLength are not valid');
  if (PANOHEAD_ORBIT_FRAMES % c.motion.videoLength !== 0) throw bad(`motion.videoLength ${c.motion.videoLength} does not divide the ${PANOHEAD_ORBIT_FRAMES}-frame orbit`);
  if (c.vae.zChannels !== u.latentChannels) throw bad(`vae.zChannels ${c.vae.zChannels} differs from unet.latentChannels ${u.latentChannels}`);
  if (!positiveInt(c.clip.contextLength) || !positiveInt(c.clip.width)) throw bad('clip.contextLength and width must be positive integers');
}

function checkSampler(dir: string, m: BundleManifest): void {
  const s = m.sampler;
  if (typeof s !== 'object' || s === null) throw bundleError(dir, 'the manifest has no sampler constants');
  const numbers = ['steps', 'eta', 'guidanceScale', 'latentScale', 'betaStart', 'betaEnd', 'trainTimesteps', 'initialNoiseTimestep', 'backHintFrame'] as const;
  for (const key of numbers) if (typeof s[key] !== 'number' || !Number.isFinite(s[key])) throw bundleError(dir, `sampler.${key} is not a number`);
  if (!Number.isInteger(s.steps) || s.steps < 1 || s.steps > s.trainTimesteps) throw bundleError(dir, `sampler.steps ${s.steps} is not 1..${s.trainTimesteps}`);
  if (!Number.isInteger(s.initialNoiseTimestep) || s.initialNoiseTimestep < 0 || s.initialNoiseTimestep >= s.trainTimesteps) throw bundleError(dir, `sampler.initialNoiseTimestep ${s.initialNoiseTimestep} is out of range`);
  if (!Number.isInteger(s.backHintFrame) || s.backHintFrame < 0 || s.backHintFrame >= PANOHEAD_ORBIT_FRAMES) throw bundleError(dir, `sampler.backHintFrame ${s.backHintFrame} is not a hint frame`);
  if (!(s.betaStart > 0 && s.betaEnd > s.betaStart && s.betaEnd < 1)) throw bundleError(dir, 'sampler betaStart/betaEnd are not 0 < start < end < 1');
}

function checkFileEntry(dir: string, file: BundleFile | undefined, what: string): void {
  if (!file || typeof file.file !== 'string' || file.file === '') throw bundleError(dir, `${what} names no file`);
  if (isAbsolute(file.file) || file.file.split(/[\\/]/).includes('..')) throw bundleError(dir, `${what} points outside the bundle (${file.file})`);
  if (!Number.isInteger(file.bytes) || file.bytes < 0) throw bundleError(dir, `${what} has no byte size`);
  if (typeof file.sha256 !== 'string' || !/^[0-9a-fA-F]{64}$/.test(file.sha256)) throw bundleError(dir, `${what} has no sha256`);
}

/** The file's absolute path after checking it exists with the manifest's size. */
function checkFile(dirArg: string, dir: string, file: BundleFile): string {
  const path = join(dir, file.file);
  if (!existsSync(path)) throw bundleError(dirArg, `${file.file} is missing`);
  const size = statSync(path).size;
  if (size !== file.bytes) throw bundleError(dirArg, `${file.file} is ${size} bytes, the manifest says ${file.bytes} (truncated or replaced?)`);
  return path;
}

function sameShape(a: unknown, b: readonly (number | string)[]): boolean {
  return Array.isArray(a) && a.length === b.length && a.every((v, i) => v === b[i]);
}

/** A short description of the first way `actual` differs from `expected`, or undefined when equal. */
export function signatureDifference(expected: GraphSignature, actual: GraphSignature | undefined): string | undefined {
  if (!actual || !Array.isArray(actual.inputs) || !Array.isArray(actual.outputs)) return 'no inputs/outputs recorded';
  for (const side of ['inputs', 'outputs'] as const) {
    const e = expected[side];
    const a = actual[side];
    const names = new Set(a.map((t) => t.name));
    const missing = e.find((t) => !names.has(t.name));
    if (missing) return `${side === 'inputs' ? 'input' : 'output'} ${missing.name} is missing`;
    if (a.length !== e.length) return `${a.length} ${side}, expected ${e.length}`;
    for (let i = 0; i < e.length; i++) {
      if (a[i].name !== e[i].name) return `${side === 'inputs' ? 'input' : 'output'} ${i} is ${a[i].name}, expected ${e[i].name}`;
      if (a[i].type !== e[i].type) return `${a[i].name} is ${a[i].type}, expected ${e[i].type}`;
      if (!sameShape(a[i].shape, e[i].shape)) return `${a[i].name} has shape [${a[i].shape}], expected [${e[i].shape}]`;
    }
  }
  return undefined;
}

/** The sha256 of a file, streamed (the full-size graphs are GBs). */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * 2 ** 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** A BundleFile entry for a file already written inside `dir` (`file` relative, '/'-separated). */
export async function describeBundleFile(dir: string, file: string): Promise<BundleFile> {
  const path = join(dir, file);
  return { file, sha256: await sha256File(path), bytes: statSync(path).size };
}

/**
 * Writes `<dir>/manifest.json` atomically, after every other file: a folder with a manifest holds a
 * complete bundle. The manifest is checked first, so a writer cannot produce a bundle the loader refuses.
 */
export async function writeManifest(dir: string, manifest: BundleManifest): Promise<string> {
  checkManifest(dir, manifest);
  const path = join(dir, MANIFEST_FILE);
  await writeFileAtomic(path, `${JSON.stringify(manifest, null, 2)}\n`);
  return path;
}

/** The empty-prompt context of `model`, float32 little-endian [1, contextLength, contextDim]. */
export async function readBundleContext(bundle: Bundle, model: ModelKind): Promise<Float32Array> {
  const bytes = await readFile(bundle.contextPath(model));
  const out = new Float32Array(bytes.length / 4);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}
