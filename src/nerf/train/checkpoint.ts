import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Head3dError, fileError } from '../../core/errors.js';
import { writeFileAtomic } from '../../core/atomic.js';
import { type FieldConfig, parameterLayout } from '../field/config.js';
import type { MarchOptions } from '../render/ray-marcher.js';
import type { OccupancyGrid } from '../render/occupancy.js';
import type { FitState } from './fit.js';

/**
 * The .h3df checkpoint: everything needed to render, export or resume a field.
 *
 *   bytes 0–3   "H3DF"
 *   bytes 4–7   format version (uint32 LE)
 *   bytes 8–11  header length N (uint32 LE)
 *   12 … 12+N   header: UTF-8 JSON (config, march options, training state, section table, payload sha256)
 *   then        payload sections, each 4-byte aligned, at the offsets the header lists
 */
export const CHECKPOINT_MAGIC = 'H3DF';
export const CHECKPOINT_VERSION = 1;

interface SectionEntry {
  name: string;
  type: 'f32' | 'u8';
  length: number;
  offset: number;
}

interface CheckpointHeader {
  config: FieldConfig;
  march: MarchOptions;
  grid: { resolution: number };
  training: { step: number; seconds: number; seed: number; [key: string]: unknown };
  sections: SectionEntry[];
  payloadSha256: string;
}

export interface Checkpoint {
  state: FitState;
  /** Free-form training facts recorded with the checkpoint (views, PSNR, …). */
  training: Record<string, unknown>;
}

/** Serialises a fit state; `includeOptimizer` keeps the Adam moments so the fit can resume. */
export function encodeCheckpoint(state: FitState, extra: Record<string, unknown> = {}, includeOptimizer = true): Uint8Array {
  const arrays: [string, Float32Array | Uint8Array][] = [
    ['params', state.params],
    ['grid.density', state.grid.density],
    ['grid.carved', state.grid.carved],
    ['grid.occupied', state.grid.occupied],
  ];
  if (includeOptimizer) arrays.push(['adam.m', state.adamM], ['adam.v', state.adamV]);
  const sections: SectionEntry[] = [];
  let offset = 0;
  for (const [name, array] of arrays) {
    sections.push({ name, type: array instanceof Float32Array ? 'f32' : 'u8', length: array.length, offset });
    offset = align4(offset + array.byteLength);
  }
  const payload = new Uint8Array(offset);
  arrays.forEach(([, array], i) => payload.set(new Uint8Array(array.buffer, array.byteOffset, array.byteLength), sections[i].offset));
  const header: CheckpointHeader = {
    config: state.config,
    march: state.march,
    grid: { resolution: state.grid.resolution },
    training: { ...extra, step: state.step, seconds: state.seconds, seed: state.seed },
    sections,
    payloadSha256: createHash('sha256').update(payload).digest('hex'),
  };
  const headerBytes = new TextEncoder().encode(JSON.stringify(header));
  const headerPadded = align4(12 + headerBytes.length);
  const out = new Uint8Array(headerPadded + payload.length);
  out.set(new TextEncoder().encode(CHECKPOINT_MAGIC), 0);
  const view = new DataView(out.buffer);
  view.setUint32(4, CHECKPOINT_VERSION, true);
  view.setUint32(8, headerPadded - 12, true);
  out.set(headerBytes, 12);
  out.fill(0x20, 12 + headerBytes.length, headerPadded); // pad the JSON with spaces
  out.set(payload, headerPadded);
  return out;
}

export async function writeCheckpoint(path: string, state: FitState, extra: Record<string, unknown> = {}, includeOptimizer = true): Promise<void> {
  await writeFileAtomic(path, encodeCheckpoint(state, extra, includeOptimizer));
}

export async function readCheckpoint(path: string): Promise<Checkpoint> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw fileError(error, path, 'checkpoint');
  }
  return decodeCheckpoint(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path);
}

export function decodeCheckpoint(bytes: Uint8Array, label = 'checkpoint'): Checkpoint {
  const refuse = (why: string, hint = 'pass a .h3df file written by `head3d fit`'): never => {
    throw new Head3dError(`${label} is not a usable head3d field: ${why}`, { hint });
  };
  if (bytes.length < 12 || new TextDecoder().decode(bytes.subarray(0, 4)) !== CHECKPOINT_MAGIC) refuse('it does not start with the H3DF signature');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(4, true);
  if (version !== CHECKPOINT_VERSION) refuse(`format version ${version} (this head3d reads version ${CHECKPOINT_VERSION})`, 'use the head3d version that wrote it, or fit again');
  const headerLength = view.getUint32(8, true);
  if (12 + headerLength > bytes.length) refuse('the file is truncated (header cut off)', 'fit again or use a complete copy');
  let header: CheckpointHeader;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + headerLength)));
  } catch {
    return refuse('its header is corrupt');
  }
  if (!Array.isArray(header?.sections) || !header.config?.encoding || !header.grid || !header.march) refuse('its header lacks required fields');
  const payload = bytes.subarray(12 + headerLength);
  const needed = Math.max(0, ...header.sections.map((s) => s.offset + s.length * (s.type === 'f32' ? 4 : 1)));
  if (payload.length < needed) refuse(`the file is truncated (${payload.length} of ${needed} payload bytes)`, 'fit again or use a complete copy');
  if (createHash('sha256').update(payload).digest('hex') !== header.payloadSha256) refuse('its payload checksum does not match (the file is damaged)', 'fit again or use a complete copy');

  const section = (name: string): Float32Array | Uint8Array | undefined => {
    const entry = header.sections.find((s) => s.name === name);
    if (!entry) return undefined;
    const start = payload.byteOffset + entry.offset;
    // Copy into fresh buffers: aligned, and independent of the file buffer.
    return entry.type === 'f32'
      ? new Float32Array(payload.buffer.slice(start, start + entry.length * 4))
      : new Uint8Array(payload.buffer.slice(start, start + entry.length));
  };
  const params = section('params') as Float32Array | undefined;
  let expected = 0;
  try {
    expected = parameterLayout(header.config).total;
  } catch {
    refuse('its field config is malformed');
  }
  if (!params || params.length !== expected) refuse(`it holds ${params?.length ?? 0} parameters but its config needs ${expected}`);
  const r = header.grid.resolution;
  const grid: OccupancyGrid = {
    resolution: r,
    boundsMin: header.config.boundsMin,
    boundsMax: header.config.boundsMax,
    density: toShared(section('grid.density') as Float32Array) as Float32Array,
    carved: toShared(section('grid.carved') as Uint8Array) as Uint8Array,
    occupied: toShared(section('grid.occupied') as Uint8Array) as Uint8Array,
  };
  if (grid.density.length !== r ** 3) refuse('its occupancy grid does not match its resolution');
  const adamM = (section('adam.m') as Float32Array | undefined) ?? new Float32Array(expected);
  const adamV = (section('adam.v') as Float32Array | undefined) ?? new Float32Array(expected);
  const { step, seconds, seed, ...training } = header.training;
  return {
    state: { config: header.config, march: header.march, params: params!, adamM, adamV, grid, step, seconds, seed },
    training,
  };
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

/** Occupancy arrays go to worker threads, so they live in shared memory. */
function toShared(array: Float32Array | Uint8Array | undefined): Float32Array | Uint8Array {
  if (!array) return new Uint8Array(0);
  const shared = new SharedArrayBuffer(array.byteLength);
  const copy = array instanceof Float32Array ? new Float32Array(shared) : new Uint8Array(shared);
  copy.set(array);
  return copy;
}
