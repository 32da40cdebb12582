/**
 * Builds ONNX graphs in TypeScript. Networks call `op` to add nodes and `param` to declare weights
 * by their PyTorch state-dict key; the weights themselves are only read when the graph is written,
 * from a WeightSource (a checkpoint, or seeded random numbers), so a multi-GB model is streamed
 * tensor by tensor into an external-data file and never held in memory at once.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { basename } from 'node:path';
import {
  DEFAULT_OPSET,
  encodeModel,
  OnnxDataType,
  type OnnxAttributeValue,
  type OnnxDim,
  type OnnxNode,
  type OnnxTensor,
  type OnnxValueInfo,
} from './onnx-model.js';

/** A tensor in the graph under construction (the name of the ONNX value). */
export interface Value {
  readonly name: string;
}

export type ElementType = 'float32' | 'int64';

export interface ParamSpec {
  /** The state-dict key, also the initializer's name. */
  name: string;
  shape: number[];
  /** Fixed contents for buffers that are not learned (position tables); random sources use it as is. */
  buffer?: Float32Array;
}

/**
 * How a weight is laid out in the graph when that differs from the state dict: stored transposed
 * (a 2-D [out, in] Linear weight kept as [in, out] so MatMul needs no Transpose node) or reshaped
 * (a [C] norm scale kept as [C, 1, 1] to broadcast over NCHW without a Reshape node). Fewer nodes
 * matter: onnxruntime's session creation grows faster than linearly with the node count.
 */
export type StoredLayout = { kind: 'transpose' } | { kind: 'reshape'; shape: number[] };

/** Where weights come from when a graph is written. */
export interface WeightSource {
  read(spec: ParamSpec): Promise<Float32Array> | Float32Array;
}

export interface WriteOptions {
  /** Put initializers of at least this many bytes in `<file>.data` (ONNX external data). Default: never. */
  externalDataThreshold?: number;
  producerVersion?: string;
}

export interface WrittenGraph {
  file: string;
  externalDataFile?: string;
  params: number;
}

const elementTypes: Record<ElementType, OnnxDataType> = { float32: OnnxDataType.FLOAT, int64: OnnxDataType.INT64 };
const EXTERNAL_ALIGNMENT = 4096;

export class GraphBuilder {
  private readonly nodes: OnnxNode[] = [];
  private readonly inputs: OnnxValueInfo[] = [];
  private readonly outputs: OnnxValueInfo[] = [];
  private readonly constants: OnnxTensor[] = [];
  /** Identical small constants (shapes, axes, scalars) are emitted once and shared. */
  private readonly constantCache = new Map<string, Value>();
  private readonly paramSpecs = new Map<string, ParamSpec>();
  private readonly layouts = new Map<string, StoredLayout>();
  private readonly names = new Map<string, number>();
  private readonly opsets = new Map<string, number>([['', DEFAULT_OPSET]]);

  constructor(readonly name: string) {}

  /** A fresh value name built from a hint (unique within the graph). */
  fresh(hint: string): string {
    const count = this.names.get(hint) ?? 0;
    this.names.set(hint, count + 1);
    return count === 0 ? hint : `${hint}__${count}`;
  }

  input(name: string, type: ElementType, shape: OnnxDim[]): Value {
    this.inputs.push({ name, elemType: elementTypes[type], shape });
    this.names.set(name, 1);
    return { name };
  }

  /** Marks `value` as a graph output called `name`. */
  output(value: Value, name: string, type: ElementType, shape: OnnxDim[]): void {
    const [renamed] = this.op('Identity', [value], {}, { outputNames: [name] });
    this.outputs.push({ name: renamed!.name, elemType: elementTypes[type], shape });
  }

  /** A weight, named by its state-dict key; declaring the same key twice returns the same value. */
  param(name: string, shape: number[], buffer?: Float32Array): Value {
    const existing = this.paramSpecs.get(name);
    if (existing) {
      if (existing.shape.join() !== shape.join()) throw new Error(`parameter ${name} declared as [${existing.shape}] and [${shape}]`);
      return { name };
    }
    if (buffer && buffer.length !== shape.reduce((a, b) => a * b, 1)) throw new Error(`buffer of ${name} does not match [${shape}]`);
    this.paramSpecs.set(name, { name, shape, ...(buffer ? { buffer } : {}) });
    this.names.set(name, 1);
    return { name };
  }

  /**
   * A weight stored in a different layout than the state dict's (see StoredLayout); `shape` is the
   * state-dict shape, which is what weight sources and key checks see.
   */
  storedParam(name: string, shape: number[], layout: StoredLayout): Value {
    const existing = this.layouts.get(name);
    if (this.paramSpecs.has(name) && JSON.stringify(existing) !== JSON.stringify(layout)) {
      throw new Error(`parameter ${name} declared with two layouts`);
    }
    if (layout.kind === 'transpose' && shape.length !== 2) throw new Error(`parameter ${name}: only 2-D weights can be stored transposed`);
    if (layout.kind === 'reshape' && layout.shape.reduce((a, b) => a * b, 1) !== shape.reduce((a, b) => a * b, 1)) {
      throw new Error(`parameter ${name}: cannot store [${shape}] as [${layout.shape}]`);
    }
    this.layouts.set(name, layout);
    return this.param(name, shape);
  }

  get params(): ParamSpec[] {
    return [...this.paramSpecs.values()];
  }

  /** A small constant tensor embedded in the graph. */
  constant(values: readonly number[] | Float32Array, shape: number[], type: ElementType = 'float32', hint = 'const'): Value {
    const cacheKey = values.length <= 64 ? `${type}[${shape}]${Array.from(values).join(',')}` : undefined;
    const cached = cacheKey === undefined ? undefined : this.constantCache.get(cacheKey);
    if (cached) return cached;
    const name = this.fresh(hint);
    let raw: Uint8Array;
    if (type === 'int64') {
      const data = BigInt64Array.from(values as readonly number[], (v) => BigInt(v));
      raw = new Uint8Array(data.buffer);
    } else {
      raw = new Uint8Array(Float32Array.from(values).buffer);
    }
    this.constants.push({ name, dataType: elementTypes[type], dims: shape, raw });
    if (cacheKey !== undefined) this.constantCache.set(cacheKey, { name });
    return { name };
  }

  /** An int64 vector constant (shapes, axes, split sizes). */
  ints(values: readonly number[], hint = 'ints'): Value {
    return this.constant(values, [values.length], 'int64', hint);
  }

  scalar(value: number, hint = 'scalar'): Value {
    return this.constant([value], [], 'float32', hint);
  }

  /**
   * Adds a node. Inputs may be null for omitted optional inputs. Returns the outputs
   * (`outputs` of them, default 1).
   */
  op(
    opType: string,
    inputs: readonly (Value | null)[],
    attributes: Record<string, OnnxAttributeValue> = {},
    options: { outputs?: number; outputNames?: string[]; domain?: string; hint?: string } = {},
  ): Value[] {
    const count = options.outputNames?.length ?? options.outputs ?? 1;
    const hint = options.hint ?? opType.toLowerCase();
    const outputs = options.outputNames?.map((n) => this.fresh(n)) ?? Array.from({ length: count }, () => this.fresh(hint));
    if (options.domain) this.opsets.set(options.domain, 1);
    this.nodes.push({
      opType,
      ...(options.domain ? { domain: options.domain } : {}),
      name: this.fresh(`node_${hint}`),
      inputs: inputs.map((v) => v?.name ?? ''),
      outputs,
      attributes,
    });
    return outputs.map((name) => ({ name }));
  }

  /** Single-output shorthand for `op`. */
  apply(opType: string, inputs: readonly (Value | null)[], attributes: Record<string, OnnxAttributeValue> = {}, hint?: string): Value {
    return this.op(opType, inputs, attributes, hint ? { hint } : {})[0]!;
  }

  /**
   * Writes the model to `file`. Weights are read one at a time from `weights`; with an external-data
   * threshold, large ones stream into `<file>.data` at 4 KiB-aligned offsets.
   */
  async write(file: string, weights: WeightSource, options: WriteOptions = {}): Promise<WrittenGraph> {
    const threshold = options.externalDataThreshold ?? Number.POSITIVE_INFINITY;
    const externalPath = `${file}.data`;
    const initializers: OnnxTensor[] = [...this.constants];
    let external: ReturnType<typeof createWriteStream> | undefined;
    let offset = 0;
    for (const spec of this.paramSpecs.values()) {
      const data = await weights.read(spec);
      const expected = spec.shape.reduce((a, b) => a * b, 1);
      if (data.length !== expected) throw new Error(`weight ${spec.name}: got ${data.length} values for shape [${spec.shape}]`);
      const layout = this.layouts.get(spec.name);
      const stored = layout?.kind === 'transpose' ? transpose2d(data, spec.shape[0]!, spec.shape[1]!) : data;
      const dims = layout?.kind === 'transpose' ? [spec.shape[1]!, spec.shape[0]!] : layout?.kind === 'reshape' ? layout.shape : spec.shape;
      const bytes = new Uint8Array(stored.buffer, stored.byteOffset, stored.byteLength);
      if (bytes.byteLength >= threshold) {
        external ??= createWriteStream(externalPath);
        const padding = (EXTERNAL_ALIGNMENT - (offset % EXTERNAL_ALIGNMENT)) % EXTERNAL_ALIGNMENT;
        if (padding > 0 && !external.write(new Uint8Array(padding))) await once(external, 'drain');
        offset += padding;
        // Copy: the stream may hold the chunk after the source array is reused by the weight reader.
        if (!external.write(bytes.slice())) await once(external, 'drain');
        initializers.push({
          name: spec.name,
          dataType: OnnxDataType.FLOAT,
          dims,
          external: { location: basename(externalPath), offset, length: bytes.byteLength },
        });
        offset += bytes.byteLength;
      } else {
        initializers.push({ name: spec.name, dataType: OnnxDataType.FLOAT, dims, raw: bytes.slice() });
      }
    }
    if (external) {
      external.end();
      await once(external, 'finish');
    }
    const encoded = encodeModel({
      graph: { name: this.name, nodes: this.nodes, initializers, inputs: this.inputs, outputs: this.outputs },
      opsets: [...this.opsets].map(([domain, version]) => ({ domain, version })),
      producerVersion: options.producerVersion ?? '0',
    });
    const { writeFile } = await import('node:fs/promises');
    await writeFile(file, encoded);
    return { file, ...(external ? { externalDataFile: externalPath } : {}), params: this.paramSpecs.size };
  }
}

function transpose2d(data: Float32Array, rows: number, columns: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < columns; c++) out[c * rows + r] = data[r * columns + c]!;
  return out;
}
