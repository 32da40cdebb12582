/**
 * A read-only zip reader for multi-gigabyte archives: it reads the central directory (zip64
 * included) from the end of the file and then reads entries by offset through a file handle, so
 * a 10 GB checkpoint never sits in memory. Entries are stored (method 0, what torch.save writes)
 * or deflated (method 8, inflated as a stream up to the bytes asked for).
 */
import { createReadStream } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { createInflateRaw, inflateRawSync } from 'node:zlib';
import { Head3dError, fileError } from '../../../core/errors.js';

export interface ZipEntry {
  name: string;
  /** 0 = stored, 8 = deflated. */
  method: number;
  compressedSize: number;
  uncompressedSize: number;
  crc32: number;
  localHeaderOffset: number;
}

const EOCD_SIGNATURE = 0x06054b50;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;

export interface ZipOpenOptions {
  /** Deflated entries up to this size (bytes, both ways) are inflated in one call, larger ones streamed. Default 64 MiB. */
  inflateInMemoryLimit?: number;
}

function u64(buffer: Buffer, offset: number): number {
  const value = buffer.readBigUInt64LE(offset);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`zip: 64-bit field too large (${value})`);
  return Number(value);
}

export class ZipReader {
  readonly path: string;
  readonly size: number;
  readonly entries: ReadonlyMap<string, ZipEntry>;
  private readonly handle: FileHandle;
  private readonly dataOffsets = new Map<string, number>();
  private readonly label: string;
  private readonly inflateInMemoryLimit: number;

  private constructor(path: string, handle: FileHandle, size: number, entries: Map<string, ZipEntry>, label: string, options: ZipOpenOptions) {
    this.path = path;
    this.inflateInMemoryLimit = options.inflateInMemoryLimit ?? 64 << 20;
    this.handle = handle;
    this.size = size;
    this.entries = entries;
    this.label = label;
  }

  /**
   * Opens an archive and reads its central directory. A file that is not a zip, or whose end is
   * missing, fails with a one-line Head3dError naming `label` (e.g. 'checkpoint').
   */
  static async open(path: string, label = 'zip archive', options: ZipOpenOptions = {}): Promise<ZipReader> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      throw fileError(error, path, label);
    }
    try {
      const { size } = await handle.stat();
      const entries = await readCentralDirectory(handle, size, path, label);
      return new ZipReader(path, handle, size, entries, label, options);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.handle.close();
  }

  entry(name: string): ZipEntry {
    const entry = this.entries.get(name);
    if (!entry) throw new Head3dError(`${this.label} ${this.path} has no entry ${name}`, { hint: 'the file is damaged or not of the expected kind' });
    return entry;
  }

  /** Bytes [start, start+length) of an entry's uncompressed data (the whole entry by default). */
  async read(name: string, start = 0, length?: number): Promise<Buffer> {
    const entry = this.entry(name);
    const size = entry.uncompressedSize;
    const count = length ?? size - start;
    if (start < 0 || count < 0 || start + count > size) {
      throw new Head3dError(`${this.label} ${this.path}: read of bytes ${start}..${start + count} past the end of ${name} (${size} bytes)`, {
        hint: 'the file is damaged',
      });
    }
    const dataOffset = await this.dataOffset(entry);
    if (dataOffset + entry.compressedSize > this.size) throw truncated(this.path, this.label, `entry ${name} ends past the end of the file`);
    if (count === 0) return Buffer.alloc(0);
    if (entry.method === 0) return this.readAt(dataOffset + start, count);
    if (entry.method === 8) {
      if (entry.compressedSize <= this.inflateInMemoryLimit && entry.uncompressedSize <= this.inflateInMemoryLimit) {
        const all = inflateRawSync(await this.readAt(dataOffset, entry.compressedSize));
        if (all.length !== size) throw damaged(this.path, this.label, `entry ${name} inflates to ${all.length} bytes, not ${size}`);
        return all.subarray(start, start + count);
      }
      return this.inflateRange(entry, dataOffset, start, count);
    }
    throw new Head3dError(`${this.label} ${this.path}: entry ${name} uses zip compression method ${entry.method}`, {
      hint: 'only stored and deflated entries are supported; re-save the file with torch.save',
    });
  }

  private async readAt(position: number, length: number): Promise<Buffer> {
    const buffer = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.handle.read(buffer, done, length - done, position + done);
      if (bytesRead === 0) throw truncated(this.path, this.label, `read past the end of the file at byte ${position + done}`);
      done += bytesRead;
    }
    return buffer;
  }

  private async dataOffset(entry: ZipEntry): Promise<number> {
    const cached = this.dataOffsets.get(entry.name);
    if (cached !== undefined) return cached;
    if (entry.localHeaderOffset + 30 > this.size) throw truncated(this.path, this.label, `the local header of ${entry.name} is past the end of the file`);
    const header = await this.readAt(entry.localHeaderOffset, 30);
    if (header.readUInt32LE(0) !== LOCAL_SIGNATURE) throw damaged(this.path, this.label, `bad local header for ${entry.name}`);
    const offset = entry.localHeaderOffset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
    this.dataOffsets.set(entry.name, offset);
    return offset;
  }

  private inflateRange(entry: ZipEntry, dataOffset: number, start: number, count: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const out = Buffer.allocUnsafe(count);
      let position = 0;
      let filled = 0;
      const source = createReadStream(this.path, { start: dataOffset, end: dataOffset + entry.compressedSize - 1 });
      const inflate = createInflateRaw();
      const finish = (error?: Error): void => {
        source.destroy();
        inflate.destroy();
        if (error) reject(error);
        else resolve(out);
      };
      inflate.on('data', (chunk: Buffer) => {
        const from = Math.max(start - position, 0);
        const to = Math.min(start + count - position, chunk.length);
        if (to > from) {
          chunk.copy(out, filled, from, to);
          filled += to - from;
        }
        position += chunk.length;
        if (filled === count) finish();
      });
      inflate.on('end', () => finish(filled === count ? undefined : damaged(this.path, this.label, `entry ${entry.name} inflates to fewer bytes than recorded`)));
      inflate.on('error', (error) => finish(damaged(this.path, this.label, `entry ${entry.name} does not inflate (${error.message})`)));
      source.on('error', (error) => finish(error));
      source.pipe(inflate);
    });
  }
}

function truncated(path: string, label: string, detail: string): Head3dError {
  return new Head3dError(`${label} ${path} is truncated (${detail})`, { hint: 'the file is incomplete, e.g. an interrupted download or copy; fetch it again' });
}

function damaged(path: string, label: string, detail: string): Head3dError {
  return new Head3dError(`${label} ${path} is damaged (${detail})`, { hint: 'fetch the file again' });
}

async function readCentralDirectory(handle: FileHandle, size: number, path: string, label: string): Promise<Map<string, ZipEntry>> {
  const readAt = async (position: number, length: number): Promise<Buffer> => {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, position);
    return buffer.subarray(0, bytesRead);
  };
  const head = await readAt(0, 4);
  const startsLikeZip = head.length === 4 && head.readUInt32LE(0) === LOCAL_SIGNATURE;
  const notZip = (): Head3dError => {
    if (head.length >= 2 && head[0] === 0x80 && head[1] !== undefined && head[1] <= 5) {
      return new Head3dError(`${label} ${path} is a legacy (pre-1.6) torch pickle, not a zip archive`, {
        hint: 're-save it with torch.save(torch.load(path), out) from torch ≥ 1.6',
      });
    }
    return new Head3dError(`${label} ${path} is not a zip archive`, { hint: 'give a PyTorch checkpoint saved with torch.save (zip format)' });
  };
  if (size < EOCD_SIZE) throw startsLikeZip ? truncated(path, label, `${size} bytes`) : notZip();

  const tailLength = Math.min(size, EOCD_SIZE + MAX_COMMENT);
  const tailStart = size - tailLength;
  const tail = await readAt(tailStart, tailLength);
  let eocd = -1;
  for (let i = tail.length - EOCD_SIZE; i >= 0; i--) {
    if (tail.readUInt32LE(i) === EOCD_SIGNATURE && i + EOCD_SIZE + tail.readUInt16LE(i + 20) <= tail.length) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw startsLikeZip ? truncated(path, label, 'no end-of-central-directory record') : notZip();

  let count = tail.readUInt16LE(eocd + 10);
  let directorySize = tail.readUInt32LE(eocd + 12);
  let directoryOffset = tail.readUInt32LE(eocd + 16);
  const locatorAt = eocd - 20;
  if (locatorAt >= 0 && tail.readUInt32LE(locatorAt) === ZIP64_LOCATOR_SIGNATURE) {
    const zip64At = u64(tail, locatorAt + 8);
    if (zip64At + 56 > size) throw truncated(path, label, 'zip64 end record past the end of the file');
    const record = await readAt(zip64At, 56);
    if (record.readUInt32LE(0) !== ZIP64_EOCD_SIGNATURE) throw damaged(path, label, 'bad zip64 end-of-central-directory record');
    count = u64(record, 32);
    directorySize = u64(record, 40);
    directoryOffset = u64(record, 48);
  }
  if (directoryOffset + directorySize > size) throw truncated(path, label, 'central directory past the end of the file');

  const directory = await readAt(directoryOffset, directorySize);
  const entries = new Map<string, ZipEntry>();
  let at = 0;
  for (let n = 0; n < count; n++) {
    if (at + 46 > directory.length || directory.readUInt32LE(at) !== CENTRAL_SIGNATURE) throw damaged(path, label, 'bad central directory');
    const method = directory.readUInt16LE(at + 10);
    const crc32 = directory.readUInt32LE(at + 16);
    let compressedSize = directory.readUInt32LE(at + 20);
    let uncompressedSize = directory.readUInt32LE(at + 24);
    const nameLength = directory.readUInt16LE(at + 28);
    const extraLength = directory.readUInt16LE(at + 30);
    const commentLength = directory.readUInt16LE(at + 32);
    let localHeaderOffset = directory.readUInt32LE(at + 42);
    const name = directory.toString('utf8', at + 46, at + 46 + nameLength);
    // Zip64 extended information: the 64-bit values of the fields saturated at 0xffffffff, in order.
    let extra = at + 46 + nameLength;
    const extraEnd = extra + extraLength;
    while (extra + 4 <= extraEnd) {
      const id = directory.readUInt16LE(extra);
      const length = directory.readUInt16LE(extra + 2);
      if (id === 0x0001) {
        let field = extra + 4;
        if (uncompressedSize === 0xffffffff) (uncompressedSize = u64(directory, field)), (field += 8);
        if (compressedSize === 0xffffffff) (compressedSize = u64(directory, field)), (field += 8);
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = u64(directory, field);
      }
      extra += 4 + length;
    }
    entries.set(name, { name, method, compressedSize, uncompressedSize, crc32, localHeaderOffset });
    at = extraEnd + commentLength;
  }
  return entries;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (zip's polynomial) of a buffer. */
export function crc32(data: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}
