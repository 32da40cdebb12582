/**
 * The PyTorch checkpoint reader and the key check of the DiffPortrait360 converter.
 * The committed fixture test/fixtures/dp360/converter-fixture.pt (+ .json, the values torch
 * reported) is written by scripts/reference/make_converter_fixture.py; the other archives are
 * built here: a hand-pickled state dict in zip64 (with a sparse 4.5 GB entry, so offsets need
 * 64 bits) and deflate, truncated and damaged files, pickles with opcodes or globals we refuse.
 * With HEAD3D_DP360_REFERENCE set to the output folder of scripts/reference/make_tiny_fixtures.py,
 * the tiny orbit and back-head state dicts written by torch are read in full and checked key by key.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { Head3dError } from '../../src/core/errors.js';
import {
  ZipReader,
  assertKeysMatch,
  compareKeys,
  crc32,
  formatKeyReport,
  openCheckpoint,
  unpickle,
} from '../../src/generate/diffportrait360/checkpoint/index.js';

const FIXTURE = join(import.meta.dirname, '../fixtures/dp360/converter-fixture.pt');
const EXPECTED = JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures/dp360/converter-fixture.json'), 'utf8')) as {
  tensors: { key: string; dtype: string; shape: number[]; stride: number[]; storageOffset: number; sum: number; values?: number[]; first?: number[] }[];
};

const dir = mkdtempSync(join(tmpdir(), 'head3d-ckpt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The fixture's formula for large.weight: ((131 i + 71 j) mod 1000) / 1000 − 0.5, rounded to float32. */
function large(rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[i * cols + j] = ((131 * i + 71 * j) % 1000) / 1000 - 0.5;
  return out;
}

// ---- a minimal zip writer (stored or deflated entries, optional zip64 records, sparse padding) ----

interface WriteEntry {
  name: string;
  data: Uint8Array;
  deflate?: boolean;
  /** A run of zero bytes of this length written as a hole (no data in memory or on disk). */
  sparseLength?: number;
}

async function writeZip(path: string, entries: WriteEntry[], options: { zip64?: boolean } = {}): Promise<void> {
  const zip64 = options.zip64 ?? false;
  const handle = await open(path, 'w');
  let offset = 0;
  const central: Buffer[] = [];
  const write = async (buffer: Uint8Array): Promise<void> => {
    await handle.write(buffer, 0, buffer.length, offset);
    offset += buffer.length;
  };
  for (const entry of entries) {
    const name = Buffer.from(entry.name, 'utf8');
    const sparse = entry.sparseLength !== undefined;
    const stored = entry.deflate ? deflateRawSync(entry.data) : entry.data;
    const usize = sparse ? entry.sparseLength! : entry.data.length;
    const csize = sparse ? entry.sparseLength! : stored.length;
    const crc = sparse ? 0 : crc32(entry.data);
    const method = entry.deflate ? 8 : 0;
    const headerOffset = offset;
    const local = Buffer.alloc(30 + (zip64 ? 20 : 0));
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(zip64 ? 45 : 20, 4);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(zip64 ? 0xffffffff : csize, 18);
    local.writeUInt32LE(zip64 ? 0xffffffff : usize, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(zip64 ? 20 : 0, 28);
    if (zip64) {
      local.writeUInt16LE(1, 30);
      local.writeUInt16LE(16, 32);
      local.writeBigUInt64LE(BigInt(usize), 34);
      local.writeBigUInt64LE(BigInt(csize), 42);
    }
    await write(Buffer.concat([local.subarray(0, 30), name, local.subarray(30)]));
    if (sparse) offset += entry.sparseLength!;
    else await write(stored);
    const record = Buffer.alloc(46 + (zip64 ? 28 : 0));
    record.writeUInt32LE(0x02014b50, 0);
    record.writeUInt16LE(zip64 ? 45 : 20, 4);
    record.writeUInt16LE(zip64 ? 45 : 20, 6);
    record.writeUInt16LE(method, 10);
    record.writeUInt32LE(crc, 16);
    record.writeUInt32LE(zip64 ? 0xffffffff : csize, 20);
    record.writeUInt32LE(zip64 ? 0xffffffff : usize, 24);
    record.writeUInt16LE(name.length, 28);
    record.writeUInt16LE(zip64 ? 28 : 0, 30);
    record.writeUInt32LE(zip64 ? 0xffffffff : headerOffset, 42);
    if (zip64) {
      record.writeUInt16LE(1, 46);
      record.writeUInt16LE(24, 48);
      record.writeBigUInt64LE(BigInt(usize), 50);
      record.writeBigUInt64LE(BigInt(csize), 58);
      record.writeBigUInt64LE(BigInt(headerOffset), 66);
    }
    central.push(Buffer.concat([record.subarray(0, 46), name, record.subarray(46)]));
  }
  const directoryOffset = offset;
  const directory = Buffer.concat(central);
  await write(directory);
  const end: Buffer[] = [];
  if (zip64) {
    const record = Buffer.alloc(56);
    record.writeUInt32LE(0x06064b50, 0);
    record.writeBigUInt64LE(44n, 4);
    record.writeUInt16LE(45, 12);
    record.writeUInt16LE(45, 14);
    record.writeBigUInt64LE(BigInt(entries.length), 24);
    record.writeBigUInt64LE(BigInt(entries.length), 32);
    record.writeBigUInt64LE(BigInt(directory.length), 40);
    record.writeBigUInt64LE(BigInt(directoryOffset), 48);
    const locator = Buffer.alloc(20);
    locator.writeUInt32LE(0x07064b50, 0);
    locator.writeBigUInt64LE(BigInt(offset), 8);
    locator.writeUInt32LE(1, 16);
    end.push(record, locator);
  }
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(zip64 ? 0xffff : entries.length, 8);
  eocd.writeUInt16LE(zip64 ? 0xffff : entries.length, 10);
  eocd.writeUInt32LE(zip64 ? 0xffffffff : directory.length, 12);
  eocd.writeUInt32LE(zip64 ? 0xffffffff : directoryOffset, 16);
  end.push(eocd);
  await write(Buffer.concat(end));
  await handle.close();
}

// ---- a minimal protocol-2 pickler for state dicts, as torch.save writes them ----

class Pickler {
  private readonly parts: Buffer[] = [Buffer.from([0x80, 0x02])];
  op(...bytes: number[]): this {
    this.parts.push(Buffer.from(bytes));
    return this;
  }
  str(s: string): this {
    const b = Buffer.from(s, 'utf8');
    const n = Buffer.alloc(4);
    n.writeUInt32LE(b.length);
    this.parts.push(Buffer.from([0x58]), n, b);
    return this;
  }
  int(v: number): this {
    if (v >= 0 && v < 256) return this.op(0x4b, v);
    const b = Buffer.alloc(5);
    b[0] = 0x4a;
    b.writeInt32LE(v, 1);
    this.parts.push(b);
    return this;
  }
  global(module: string, name: string): this {
    this.parts.push(Buffer.from(`c${module}\n${name}\n`, 'latin1'));
    return this;
  }
  ints(values: number[]): this {
    this.op(0x28);
    values.forEach((v) => this.int(v));
    return this.op(0x74);
  }
  /** _rebuild_tensor_v2(('storage', <type>, key, 'cpu', numel), offset, size, stride, False, OrderedDict()) */
  tensor(storageType: string, key: string, numel: number, offset: number, shape: number[], stride: number[]): this {
    this.global('torch._utils', '_rebuild_tensor_v2').op(0x28);
    this.op(0x28).str('storage').global('torch', storageType).str(key).str('cpu').int(numel).op(0x74, 0x51);
    this.int(offset).ints(shape).ints(stride).op(0x89);
    this.global('collections', 'OrderedDict').op(0x29, 0x52);
    return this.op(0x74, 0x52);
  }
  bytes(): Buffer {
    return Buffer.concat([...this.parts, Buffer.from([0x2e])]);
  }
}

/** A top-level OrderedDict state dict of two tensors over storages '0' (fp32) and '1' (fp16). */
function smallStateDict(): { pkl: Buffer; storages: Map<string, Buffer> } {
  const p = new Pickler().global('collections', 'OrderedDict').op(0x29, 0x52, 0x71, 0x00).op(0x28);
  p.str('w').tensor('FloatStorage', '0', 6, 0, [2, 3], [3, 1]);
  p.str('h.T').tensor('HalfStorage', '1', 4, 0, [2, 2], [1, 2]);
  p.op(0x75);
  const f32 = Buffer.from(new Float32Array([1, 2, 3, 4, 5, 6]).buffer);
  const f16 = Buffer.from(new Uint16Array([0x3c00, 0x4000, 0xc200, 0x3800]).buffer); // 1, 2, -3, 0.5
  return { pkl: p.bytes(), storages: new Map([['0', f32], ['1', f16]]) };
}

function expectOneLineError(error: unknown, pattern: RegExp): void {
  expect(error).toBeInstanceOf(Head3dError);
  const e = error as Head3dError;
  expect(e.message).toMatch(pattern);
  expect(e.message).not.toContain('\n');
  expect(e.hint).toBeTruthy();
}

async function errorOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe('PyTorch checkpoint reader', () => {
  it('reads every tensor of the torch.save fixture as torch reported it', async () => {
    const ckpt = await openCheckpoint(FIXTURE);
    try {
      expect([...ckpt.tensors.keys()]).toEqual(EXPECTED.tensors.map((t) => t.key));
      expect(ckpt.archive).toBe('converter-fixture');
      for (const want of EXPECTED.tensors) {
        const info = ckpt.info(want.key);
        expect({ key: info.key, dtype: info.dtype, shape: info.shape, stride: info.stride, storageOffset: info.storageOffset }).toEqual({
          key: want.key,
          dtype: want.dtype,
          shape: want.shape,
          stride: want.stride,
          storageOffset: want.storageOffset,
        });
        const data = await ckpt.read(want.key);
        expect(data).toBeInstanceOf(Float32Array);
        expect(data.length).toBe(want.shape.reduce((a, b) => a * b, 1));
        if (want.values) expect(Array.from(data), want.key).toEqual(want.values);
        else expect(Array.from(data.subarray(0, want.first!.length)), want.key).toEqual(want.first);
        let sum = 0;
        for (const v of data) sum += v;
        expect(sum, want.key).toBeCloseTo(want.sum, 6);
      }
      expect(await ckpt.read('large.weight')).toEqual(large(96, 320));
    } finally {
      await ckpt.close();
    }
  });

  it('returns raw row-major bytes in the stored dtype (fp16 bits kept, views gathered)', async () => {
    const ckpt = await openCheckpoint(FIXTURE);
    try {
      const half = await ckpt.readBytes('fp16.weight');
      expect(half.length).toBe(24);
      expect(half.readUInt16LE(0)).toBe(0xc200); // -3 in fp16
      const slice = await ckpt.readBytes('view.fp16_slice');
      expect(slice.length).toBe(16);
      const transposed = await ckpt.readBytes('view.transposed');
      expect(Array.from(new Float32Array(transposed.buffer.slice(transposed.byteOffset, transposed.byteOffset + 16)))).toEqual([-3, -1.75, -0.5, 0.75]);
      expect(ckpt.info('view.transposed').storageKey).toBe(ckpt.info('view.base').storageKey);
      await expect(ckpt.read('no.such.key')).rejects.toThrow(/has no tensor no\.such\.key/);
    } finally {
      await ckpt.close();
    }
  });

  it('finds the state dict by name or at the top level', async () => {
    const explicit = await openCheckpoint(FIXTURE, { nested: 'state_dict' });
    expect(explicit.tensors.size).toBe(EXPECTED.tensors.length);
    await explicit.close();
    const top = await openCheckpoint(FIXTURE, { nested: 'none' });
    expect(top.tensors.size).toBe(0); // the top level holds the dict and plain values only
    await top.close();
    expectOneLineError(await errorOf(openCheckpoint(FIXTURE, { nested: 'model' })), /holds no state dict under 'model'/);

    const { pkl, storages } = smallStateDict();
    const path = join(dir, 'top-level.pt');
    await writeZip(path, [{ name: 'archive/data.pkl', data: pkl }, ...[...storages].map(([k, data]) => ({ name: `archive/data/${k}`, data }))]);
    const ckpt = await openCheckpoint(path);
    expect([...ckpt.tensors.keys()]).toEqual(['w', 'h.T']);
    expect(Array.from(await ckpt.read('w'))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(await ckpt.read('h.T'))).toEqual([1, -3, 2, 0.5]);
    await ckpt.close();
  });

  it('reads zip64 archives with offsets beyond 4 GiB and deflated entries (whole or streamed)', async () => {
    const source = await ZipReader.open(FIXTURE);
    const entries: WriteEntry[] = [];
    let i = 0;
    for (const name of source.entries.keys()) {
      entries.push({ name, data: await source.read(name), deflate: i++ % 2 === 1 });
      // A 4.5 GiB hole after the pickle: every storage after it sits past 2^32 (sparse on disk).
      if (name.endsWith('data.pkl')) entries.push({ name: 'converter-fixture/padding', data: new Uint8Array(0), sparseLength: 4.5 * 2 ** 30 });
    }
    await source.close();
    const path = join(dir, 'zip64.pt');
    await writeZip(path, entries, { zip64: true });

    const zip = await ZipReader.open(path);
    expect(zip.size).toBeGreaterThan(2 ** 32);
    expect(zip.entries.get('converter-fixture/data/14')!.localHeaderOffset).toBeGreaterThan(2 ** 32);
    await zip.close();

    for (const inflateInMemoryLimit of [undefined, 0]) {
      const ckpt = await openCheckpoint(path, { inflateInMemoryLimit });
      const original = await openCheckpoint(FIXTURE);
      for (const key of original.tensors.keys()) {
        expect(await ckpt.read(key), key).toEqual(await original.read(key));
        expect(ckpt.info(key)).toEqual(original.info(key));
      }
      await ckpt.close();
      await original.close();
    }
  });

  it('fails with one line and a hint on files that are not checkpoints, truncated or damaged', async () => {
    const bytes = readFileSync(FIXTURE);
    const cases: [string, Uint8Array, RegExp][] = [
      ['truncated.pt', bytes.subarray(0, bytes.length >> 1), /is truncated/],
      ['truncated-end.pt', bytes.subarray(0, bytes.length - 10), /is truncated/],
      ['empty.pt', new Uint8Array(0), /is not a zip archive/],
      ['text.pt', Buffer.from('not a checkpoint at all, just some text that is long enough'), /is not a zip archive/],
      ['legacy.pt', Buffer.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e]), /legacy \(pre-1\.6\) torch pickle/],
    ];
    for (const [name, data, pattern] of cases) {
      const path = join(dir, name);
      writeFileSync(path, data);
      expectOneLineError(await errorOf(openCheckpoint(path)), pattern);
    }
    expectOneLineError(await errorOf(openCheckpoint(join(dir, 'missing.pt'))), /checkpoint not found/);

    const notTorch = join(dir, 'plain.zip');
    await writeZip(notTorch, [{ name: 'hello.txt', data: Buffer.from('hi') }]);
    expectOneLineError(await errorOf(openCheckpoint(notTorch)), /not a PyTorch checkpoint/);

    // A storage whose entry is shorter than its tensor needs.
    const { pkl, storages } = smallStateDict();
    const short = join(dir, 'short-storage.pt');
    await writeZip(short, [{ name: 'archive/data.pkl', data: pkl }, { name: 'archive/data/0', data: storages.get('0')!.subarray(0, 8) }, { name: 'archive/data/1', data: storages.get('1')! }]);
    const ckpt = await openCheckpoint(short);
    expectOneLineError(await errorOf(ckpt.read('w')), /reaches past its storage/);
    await ckpt.close();

    // A corrupted pickle fails its CRC.
    const corrupt = Buffer.from(bytes);
    const pklAt = corrupt.indexOf('converter-fixture/data.pkl') + 'converter-fixture/data.pkl'.length + 64;
    corrupt[pklAt] = corrupt[pklAt]! ^ 0xff;
    const corruptPath = join(dir, 'corrupt.pt');
    writeFileSync(corruptPath, corrupt);
    expectOneLineError(await errorOf(openCheckpoint(corruptPath)), /CRC/);
  });

  it('refuses opcodes and globals outside the state-dict subset, naming them', async () => {
    const zipOf = async (name: string, pkl: Buffer): Promise<string> => {
      const path = join(dir, name);
      await writeZip(path, [{ name: 'archive/data.pkl', data: pkl }]);
      return path;
    };
    const inst = await zipOf('inst.pt', Buffer.from([0x80, 0x02, 0x7d, 0x81, 0x2e])); // NEWOBJ
    expectOneLineError(await errorOf(openCheckpoint(inst)), /unsupported pickle opcode NEWOBJ \(0x81\) at byte 3/);
    const evil = await zipOf('global.pt', new Pickler().global('os', 'system').str('echo').op(0x85, 0x52).bytes());
    expectOneLineError(await errorOf(openCheckpoint(evil)), /unsupported pickle global os\.system/);
    const cut = await zipOf('cut.pt', Buffer.from([0x80, 0x02, 0x58, 0xff, 0x00, 0x00, 0x00, 0x61]));
    expectOneLineError(await errorOf(openCheckpoint(cut)), /pickle data ends early/);
  });

  it('unpickles the plain values around a state dict', () => {
    const value = unpickle(
      new Pickler()
        .op(0x7d, 0x71, 0x00, 0x28)
        .str('n')
        .int(-5)
        .str('big')
        .op(0x8a, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01) // LONG1 2^40
        .str('neg')
        .op(0x8a, 0x01, 0xff) // LONG1 -1
        .str('x')
        .op(0x47, ...Buffer.from([0x3f, 0xf8, 0, 0, 0, 0, 0, 0])) // BINFLOAT 1.5
        .str('list')
        .op(0x5d, 0x28, 0x88, 0x89, 0x4e, 0x65) // [True, False, None]
        .str('again')
        .op(0x68, 0x00) // BINGET 0: the dict itself
        .op(0x75)
        .bytes(),
    ) as Map<string, unknown>;
    expect(value.get('n')).toBe(-5);
    expect(value.get('big')).toBe(2 ** 40);
    expect(value.get('neg')).toBe(-1);
    expect(value.get('x')).toBe(1.5);
    expect(value.get('list')).toEqual([true, false, null]);
    expect(value.get('again')).toBe(value);
  });
});

describe('checkpoint key check', () => {
  const actual = [
    { key: 'a.weight', shape: [4, 3] },
    { key: 'a.bias', shape: [4] },
    { key: 'b.weight', shape: [8, 4, 3, 3] },
    { key: 'betas', shape: [1000] },
    { key: 'extra.0', shape: [1] },
    { key: 'extra.1', shape: [1] },
    { key: 'extra.2', shape: [1] },
    { key: 'extra.3', shape: [1] },
    { key: 'extra.4', shape: [1] },
  ];

  it('accepts matching keys in any order and can ignore known extras', () => {
    const expected = actual.slice(0, 3).reverse();
    const report = compareKeys(actual, expected, { ignoreUnexpected: (k) => k === 'betas' || k.startsWith('extra.') });
    expect(report).toEqual({ missing: [], unexpected: [], misshaped: [], matched: 3, ok: true });
    expect(formatKeyReport(report)).toBe('all 3 keys match');
    expect(() => assertKeysMatch(report, { what: 'checkpoint x.th' })).not.toThrow();
  });

  it('lists missing, unexpected and mis-shaped keys with counts', () => {
    const expected = [
      { key: 'a.weight', shape: [4, 3] },
      { key: 'a.bias', shape: [5] },
      { key: 'b.weight', shape: [8, 4, 3] },
      { key: 'c.weight', shape: [2] },
      { key: 'c.bias', shape: [2] },
    ];
    const report = compareKeys(actual, expected);
    expect(report.ok).toBe(false);
    expect(report.matched).toBe(1);
    expect(report.missing).toEqual(['c.weight', 'c.bias']);
    expect(report.unexpected).toEqual(['betas', 'extra.0', 'extra.1', 'extra.2', 'extra.3', 'extra.4']);
    expect(report.misshaped).toEqual([
      { key: 'a.bias', expected: [5], actual: [4] },
      { key: 'b.weight', expected: [8, 4, 3], actual: [8, 4, 3, 3] },
    ]);
    const text = formatKeyReport(report, 2);
    expect(text).toBe(
      '2 missing (c.weight, c.bias); 6 unexpected (betas, extra.0, … (4 more)); ' +
        '2 with the wrong shape (a.bias: [4], expected [5], b.weight: [8,4,3,3], expected [8,4,3])',
    );
    let error: unknown;
    try {
      assertKeysMatch(report, { what: 'checkpoint model_state-340000.th', model: 'orbit', limit: 2 });
    } catch (e) {
      error = e;
    }
    expectOneLineError(error, /^checkpoint model_state-340000\.th does not fit the orbit model: 2 missing/);
  });

  it('checks a real checkpoint index against an expected list', async () => {
    const ckpt = await openCheckpoint(FIXTURE);
    const expected = EXPECTED.tensors.filter((t) => t.key !== 'betas').map(({ key, shape }) => ({ key, shape }));
    expected.push({ key: 'model.diffusion_model.out.2.weight', shape: [4, 32, 3, 3] });
    const report = compareKeys(ckpt.tensors.values(), expected);
    expect(report.missing).toEqual(['model.diffusion_model.out.2.weight']);
    expect(report.unexpected).toEqual(['betas']);
    expect(report.matched).toBe(EXPECTED.tensors.length - 1);
    await ckpt.close();
  });
});

const REFERENCE = process.env.HEAD3D_DP360_REFERENCE;
const referenceReason = REFERENCE
  ? existsSync(join(REFERENCE, 'manifest.json'))
    ? undefined
    : `HEAD3D_DP360_REFERENCE=${REFERENCE} has no manifest.json`
  : 'HEAD3D_DP360_REFERENCE is not set (the output folder of scripts/reference/make_tiny_fixtures.py)';

describe.skipIf(referenceReason !== undefined)(`tiny reference state dicts${referenceReason ? ` (skipped: ${referenceReason})` : ''}`, () => {
  for (const model of ['orbit', 'back'] as const) {
    it(`reads every tensor of tiny-${model}.pt as torch saved it`, async () => {
      const summary = JSON.parse(readFileSync(join(REFERENCE!, `tiny-${model}.summary.json`), 'utf8')) as {
        key: string;
        dtype: string;
        shape: number[];
        sum: number;
        absSum: number;
        first: number[];
      }[];
      const ckpt = await openCheckpoint(join(REFERENCE!, `tiny-${model}.pt`));
      try {
        const report = compareKeys(ckpt.tensors.values(), summary);
        expect(formatKeyReport(report)).toBe(`all ${summary.length} keys match`);
        expect([...ckpt.tensors.keys()]).toEqual(summary.map((s) => s.key));
        for (const want of summary) {
          expect(ckpt.info(want.key).dtype, want.key).toBe(want.dtype);
          const data = await ckpt.read(want.key);
          let sum = 0;
          let absSum = 0;
          for (const v of data) {
            sum += v;
            absSum += Math.abs(v);
          }
          expect(Math.abs(sum - want.sum), want.key).toBeLessThanOrEqual(1e-9 * want.absSum + 1e-12);
          expect(Math.abs(absSum - want.absSum), want.key).toBeLessThanOrEqual(1e-9 * want.absSum + 1e-12);
          expect(Array.from(data.subarray(0, want.first.length)), want.key).toEqual(want.first);
        }
      } finally {
        await ckpt.close();
      }
    });
  }
});

const PYTHON = '/usr/bin/python3';
const torchReason = (() => {
  const probe = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.error) return `${PYTHON} is missing`;
  return probe.status === 0 ? undefined : `${PYTHON} has no torch (apt-get install python3-torch)`;
})();

describe.skipIf(torchReason !== undefined)(`converter fixture script${torchReason ? ` (skipped: ${torchReason})` : ''}`, () => {
  it('regenerates the committed fixture: same tensors, same torch report', async () => {
    const out = join(dir, 'regenerated');
    const run = spawnSync(PYTHON, [join(import.meta.dirname, '../../scripts/reference/make_converter_fixture.py'), out], {
      encoding: 'utf8',
      env: { ...process.env, OMP_NUM_THREADS: '1' },
    });
    expect(run.status, run.stderr).toBe(0);
    const json = JSON.parse(readFileSync(join(out, 'converter-fixture.json'), 'utf8')) as typeof EXPECTED;
    expect(json.tensors).toEqual(EXPECTED.tensors);
    const fresh = await openCheckpoint(join(out, 'converter-fixture.pt'));
    const committed = await openCheckpoint(FIXTURE);
    for (const [key, info] of committed.tensors) {
      expect(fresh.info(key)).toEqual(info);
      expect(await fresh.readBytes(key)).toEqual(await committed.readBytes(key));
    }
    await fresh.close();
    await committed.close();
  });
});
