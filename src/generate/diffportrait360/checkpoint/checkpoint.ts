/**
 * PyTorch checkpoints (torch.save zip format, torch ≥ 1.6) as a lazy tensor index: the pickle is
 * read at open, tensor data only when asked for, one tensor at a time, straight from the file.
 *
 * @example
 * const ckpt = await openCheckpoint('model_state-340000.th');
 * const info = ckpt.tensors.get('model.diffusion_model.out.2.weight');   // dtype, shape, stride…
 * const w = await ckpt.read('model.diffusion_model.out.2.weight');        // Float32Array, row-major
 * await ckpt.close();
 */
import { Head3dError } from '../../../core/errors.js';
import { type PickleValue, type TensorRef, UnpicklingError, isDict, isTensorRef, unpickle } from './pickle.js';
import { ZipReader, type ZipOpenOptions, crc32 } from './zip.js';

export type TorchDtype = 'float32' | 'float64' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

const STORAGE_DTYPES: Record<string, TorchDtype> = {
  FloatStorage: 'float32',
  DoubleStorage: 'float64',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
};

export const DTYPE_BYTES: Record<TorchDtype, number> = {
  float32: 4,
  float64: 8,
  float16: 2,
  bfloat16: 2,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

export interface TensorInfo {
  key: string;
  dtype: TorchDtype;
  shape: number[];
  /** In elements, as torch reports it. */
  stride: number[];
  /** In elements from the start of the storage. */
  storageOffset: number;
  /** The zip entry `<archive>/data/<storageKey>`. */
  storageKey: string;
  /** Elements in the whole storage (several tensors may view one storage). */
  storageNumel: number;
}

export interface OpenCheckpointOptions extends ZipOpenOptions {
  /**
   * Where the state dict is in the pickled object: 'auto' (default) takes `state_dict` when the
   * top level has one, else the top level itself.
   */
  nested?: 'auto' | 'none' | string;
}

export const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

function contiguousStrides(shape: readonly number[]): number[] {
  const stride = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    stride[i] = s;
    s *= shape[i]!;
  }
  return stride;
}

export function isContiguous(info: Pick<TensorInfo, 'shape' | 'stride'>): boolean {
  const expected = contiguousStrides(info.shape);
  return info.shape.every((n, i) => n <= 1 || info.stride[i] === expected[i]);
}

const HALF_TABLE = (() => {
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >> 10) & 0x1f;
    const mantissa = h & 0x3ff;
    let value: number;
    if (exponent === 0) value = mantissa * 2 ** -24;
    else if (exponent === 31) value = mantissa === 0 ? Infinity : NaN;
    else value = (1 + mantissa / 1024) * 2 ** (exponent - 15);
    table[h] = sign * value;
  }
  return table;
})();

/** Elements of a little-endian buffer of `dtype` as float32 (fp16/bf16 widened exactly). */
export function toFloat32(bytes: Uint8Array, dtype: TorchDtype): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.byteLength / DTYPE_BYTES[dtype];
  const out = new Float32Array(n);
  switch (dtype) {
    case 'float32':
      if (bytes.byteOffset % 4 === 0) out.set(new Float32Array(bytes.buffer, bytes.byteOffset, n));
      else for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true);
      break;
    case 'float64':
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(8 * i, true);
      break;
    case 'float16':
      for (let i = 0; i < n; i++) out[i] = HALF_TABLE[view.getUint16(2 * i, true)]!;
      break;
    case 'bfloat16': {
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) bits[i] = view.getUint16(2 * i, true) << 16;
      break;
    }
    case 'int64':
      for (let i = 0; i < n; i++) out[i] = Number(view.getBigInt64(8 * i, true));
      break;
    case 'int32':
      for (let i = 0; i < n; i++) out[i] = view.getInt32(4 * i, true);
      break;
    case 'int16':
      for (let i = 0; i < n; i++) out[i] = view.getInt16(2 * i, true);
      break;
    case 'int8':
      for (let i = 0; i < n; i++) out[i] = view.getInt8(i);
      break;
    case 'uint8':
    case 'bool':
      for (let i = 0; i < n; i++) out[i] = bytes[i]!;
      break;
  }
  return out;
}

/** Collects the strided view `info` out of `bytes` (which start at storage element `first`) into row-major bytes. */
function gather(bytes: Buffer, first: number, info: TensorInfo): Buffer {
  const size = DTYPE_BYTES[info.dtype];
  const count = numel(info.shape);
  const out = Buffer.allocUnsafe(count * size);
  // The innermost dims that are contiguous among themselves are copied as one run.
  let rank = info.shape.length;
  let run = 1;
  while (rank > 0 && info.stride[rank - 1] === run) run *= info.shape[--rank]!;
  const index = new Array<number>(rank).fill(0);
  let source = info.storageOffset - first;
  for (let i = 0; i < count; i += run) {
    bytes.copy(out, i * size, source * size, (source + run) * size);
    for (let d = rank - 1; d >= 0; d--) {
      index[d]!++;
      source += info.stride[d]!;
      if (index[d]! < info.shape[d]!) break;
      source -= info.stride[d]! * info.shape[d]!;
      index[d] = 0;
    }
  }
  return out;
}

export class TorchCheckpoint {
  readonly path: string;
  /** State-dict key → tensor, in the checkpoint's order. */
  readonly tensors: ReadonlyMap<string, TensorInfo>;
  /** The archive's folder name inside the zip (torch uses the file's stem, or 'archive'). */
  readonly archive: string;
  private readonly zip: ZipReader;

  constructor(path: string, zip: ZipReader, archive: string, tensors: Map<string, TensorInfo>) {
    this.path = path;
    this.zip = zip;
    this.archive = archive;
    this.tensors = tensors;
  }

  info(key: string): TensorInfo {
    const info = this.tensors.get(key);
    if (!info) throw new Head3dError(`checkpoint ${this.path} has no tensor ${key}`, { hint: 'check the checkpoint against the model it is meant for' });
    return info;
  }

  /** The tensor's elements in its own dtype, row-major and contiguous, little-endian. */
  async readBytes(key: string): Promise<Buffer> {
    const info = this.info(key);
    const size = DTYPE_BYTES[info.dtype];
    const count = numel(info.shape);
    if (count === 0) return Buffer.alloc(0);
    let first = info.storageOffset;
    let last = info.storageOffset;
    info.shape.forEach((n, d) => {
      const step = (n - 1) * info.stride[d]!;
      if (step < 0) first += step;
      else last += step;
    });
    const entry = `${this.archive}/data/${info.storageKey}`;
    const stored = this.zip.entry(entry).uncompressedSize;
    if (first < 0 || (last + 1) * size > stored) {
      throw new Head3dError(`checkpoint ${this.path}: tensor ${key} reaches past its storage (${stored} bytes)`, { hint: 'the file is damaged' });
    }
    const bytes = await this.zip.read(entry, first * size, (last - first + 1) * size);
    if (isContiguous(info) && first === info.storageOffset) return bytes.subarray(0, count * size);
    return gather(bytes, first, info);
  }

  /** The tensor as float32, row-major (fp16/bf16/fp64/integers converted). */
  async read(key: string): Promise<Float32Array> {
    return toFloat32(await this.readBytes(key), this.info(key).dtype);
  }

  async close(): Promise<void> {
    await this.zip.close();
  }
}

function stateDictOf(root: PickleValue, nested: string): Map<PickleValue, PickleValue> | undefined {
  if (!isDict(root)) return undefined;
  if (nested === 'none') return root;
  if (nested !== 'auto') {
    const inner = root.get(nested);
    return isDict(inner) ? inner : undefined;
  }
  const inner = root.get('state_dict');
  return isDict(inner) ? inner : root;
}

/**
 * Opens a torch.save checkpoint and indexes its state dict (tensors only; other values are
 * skipped). Errors a user can cause (not a zip, truncated, an unsupported pickle) are
 * one-line Head3dErrors with a hint.
 */
export async function openCheckpoint(path: string, options: OpenCheckpointOptions = {}): Promise<TorchCheckpoint> {
  const zip = await ZipReader.open(path, 'checkpoint', options);
  try {
    const pickles = [...zip.entries.keys()].filter((name) => /^[^/]+\/data\.pkl$/.test(name));
    if (pickles.length !== 1) {
      throw new Head3dError(`checkpoint ${path} is a zip archive but not a PyTorch checkpoint (${pickles.length === 0 ? 'no' : 'several'} <archive>/data.pkl)`, {
        hint: 'give a file written by torch.save',
      });
    }
    const archive = pickles[0]!.slice(0, -'/data.pkl'.length);
    const byteorder = zip.entries.get(`${archive}/byteorder`);
    if (byteorder && (await zip.read(byteorder.name)).toString('latin1').trim() !== 'little') {
      throw new Head3dError(`checkpoint ${path} stores big-endian tensors`, { hint: 're-save it with torch.save on a little-endian machine' });
    }
    const pkl = await zip.read(pickles[0]!);
    const entry = zip.entry(pickles[0]!);
    if (crc32(pkl) !== entry.crc32) throw new Head3dError(`checkpoint ${path} is damaged (data.pkl fails its CRC check)`, { hint: 'fetch the file again' });
    let root: PickleValue;
    try {
      root = unpickle(pkl);
    } catch (error) {
      if (error instanceof UnpicklingError) {
        throw new Head3dError(`checkpoint ${path}: ${error.message}`, { hint: 'only plain state dicts (tensors in (Ordered)dicts) can be read; save model.state_dict()', cause: error });
      }
      throw error;
    }
    const nested = options.nested ?? 'auto';
    const dict = stateDictOf(root, nested);
    if (!dict) throw new Head3dError(`checkpoint ${path} holds no state dict${nested === 'auto' || nested === 'none' ? '' : ` under '${nested}'`}`, { hint: 'save model.state_dict() with torch.save' });
    const tensors = new Map<string, TensorInfo>();
    for (const [key, value] of dict) {
      if (typeof key !== 'string' || !isTensorRef(value)) continue;
      const t: TensorRef = value;
      const dtype = STORAGE_DTYPES[t.storage.storageType];
      if (!dtype) throw new Head3dError(`checkpoint ${path}: tensor ${key} has storage type ${t.storage.storageType}`, { hint: 'unsupported dtype' });
      const storageEntry = zip.entries.get(`${archive}/data/${t.storage.key}`);
      if (!storageEntry) throw new Head3dError(`checkpoint ${path} is damaged (storage ${t.storage.key} of ${key} is missing)`, { hint: 'fetch the file again' });
      tensors.set(key, { key, dtype, shape: t.shape, stride: t.stride, storageOffset: t.storageOffset, storageKey: t.storage.key, storageNumel: t.storage.numel });
    }
    return new TorchCheckpoint(path, zip, archive, tensors);
  } catch (error) {
    await zip.close();
    throw error;
  }
}
