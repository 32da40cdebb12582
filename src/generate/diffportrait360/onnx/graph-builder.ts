/**
 * Builds ONNX graphs in TypeScript. Networks call `op` to add nodes and `param` to declare weights
 * by their PyTorch state-dict key; the weights themselves are only read when the graph is written,
 * from a WeightSource (a checkpoint, or seeded random numbers), so a multi-GB model is streamed
 * tensor by tensor into an external-data file and never held in memory at once.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { basename, dirname, resolve } from 'node:path';
import { float32ToFloat16Bits } from '../sampler/float16.js';
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

export type ElementType = 'float32' | 'float16' | 'int64';

/**
 * The float type a graph computes in. 'float16' graphs keep float32 inputs and outputs (Cast on
 * entry and exit), store their weights as FLOAT16 and run the numerically touchy parts (norms,
 * attention logits and softmax, the timestep sinusoid) in float32 between Casts, as the released
 * code does under torch autocast (diffportrait360.md §3.1, §9.1 item 8).
 */
export type ComputePrecision = 'float32' | 'float16';

export interface GraphBuilderOptions {
  /** Default 'float32'. */
  precision?: ComputePrecision;
}

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

export interface ExternalTensor {
  offset: number;
  length: number;
  dataType: OnnxDataType;
  dims: number[];
  /** sha1 of the stored bytes: a tensor is reused only when name, type, shape and bytes all match. */
  digest: string;
}

/**
 * An ONNX external-data file that one or more graphs of the same folder fill in turn: each write
 * appends the tensors the file does not hold yet and references the ones it does (the UNet's cond
 * and uncond graphs share all their weights this way).
 */
export interface ExternalDataFile {
  path: string;
  /** Bytes in the file so far. */
  bytes: number;
  tensors: Map<string, ExternalTensor>;
}

/** A new, empty external-data file record for `path` (the file is created by the first write that needs it). */
export function externalDataFile(path: string): ExternalDataFile {
  return { path, bytes: 0, tensors: new Map() };
}

export interface WriteOptions {
  /** Put initializers of at least this many bytes in external data. Default: never. */
  externalDataThreshold?: number;
  /** The external-data file to fill (and reuse tensors from). Default: a new `<file>.data`. */
  externalData?: ExternalDataFile;
  producerVersion?: string;
}

export interface WrittenGraph {
  file: string;
  /** The external-data file this graph references, when it has external initializers. */
  externalDataFile?: string;
  /** The external-data record after this write: pass it to the next graph that should share the file. */
  externalData: ExternalDataFile;
  params: number;
  /** External initializers that were already in the file and only referenced. */
  reusedTensors: number;
}

const elementTypes: Record<ElementType, OnnxDataType> = { float32: OnnxDataType.FLOAT, float16: OnnxDataType.FLOAT16, int64: OnnxDataType.INT64 };
/** External tensors of at least LARGE_TENSOR bytes start at page (4 KiB) offsets, so they can be mapped; smaller ones at 64 bytes. */
const EXTERNAL_ALIGNMENT = 4096;
const SMALL_ALIGNMENT = 64;
const LARGE_TENSOR = 2 ** 16;

export class GraphBuilder {
  private readonly nodes: OnnxNode[] = [];
  private readonly inputs: OnnxValueInfo[] = [];
  private readonly outputs: OnnxValueInfo[] = [];
  private readonly constants: OnnxTensor[] = [];
  /** Identical small constants (shapes, axes, scalars) are emitted once and shared. */
  private readonly constantCache = new Map<string, Value>();
  private readonly paramSpecs = new Map<string, ParamSpec>();
  private readonly layouts = new Map<string, StoredLayout>();
  private readonly paramTypes = new Map<string, ComputePrecision>();
  private readonly names = new Map<string, number>();
  private readonly opsets = new Map<string, number>([['', DEFAULT_OPSET]]);

  /** The float type of activations, weights and constants unless a call asks for another. */
  readonly precision: ComputePrecision;

  constructor(
    readonly name: string,
    options: GraphBuilderOptions = {},
  ) {
    this.precision = options.precision ?? 'float32';
    if (this.precision !== 'float32' && this.precision !== 'float16') throw new Error(`GraphBuilder ${name}: precision must be float32 or float16, not ${String(this.precision)}`);
  }

  /** `x` (a float32 value) in the compute type: a Cast in float16 graphs, `x` itself otherwise. */
  toCompute(x: Value, hint = 'to_compute'): Value {
    return this.precision === 'float32' ? x : this.apply('Cast', [x], { to: OnnxDataType.FLOAT16 }, hint);
  }

  /** `x` (a compute-type value) in float32: a Cast in float16 graphs, `x` itself otherwise. */
  toFloat32(x: Value, hint = 'to_float32'): Value {
    return this.precision === 'float32' ? x : this.apply('Cast', [x], { to: OnnxDataType.FLOAT }, hint);
  }

  /** A fresh value name built from a hint (unique within the graph). */
  fresh(hint: string): string {
    const count = this.names.get(hint) ?? 0;
    this.names.set(hint, count + 1);
    return count === 0 ? hint : `${hint}__${count}`;
  }

  /** A graph input; a float32 input of a float16 graph is returned already Cast to float16. */
  input(name: string, type: ElementType, shape: OnnxDim[]): Value {
    this.inputs.push({ name, elemType: elementTypes[type], shape });
    this.names.set(name, 1);
    return type === 'float32' ? this.toCompute({ name }, `${name}_f16`) : { name };
  }

  /** Marks `value` (compute type for a float32 output) as a graph output called `name`. */
  output(value: Value, name: string, type: ElementType, shape: OnnxDim[]): void {
    const cast = type === 'float32' && this.precision === 'float16';
    const [renamed] = cast ? this.op('Cast', [value], { to: OnnxDataType.FLOAT }, { outputNames: [name] }) : this.op('Identity', [value], {}, { outputNames: [name] });
    this.outputs.push({ name: renamed!.name, elemType: elementTypes[type], shape });
  }

  /**
   * A weight, named by its state-dict key; declaring the same key twice returns the same value.
   * Stored in the compute type unless `type` says otherwise (norm affines stay float32).
   */
  param(name: string, shape: number[], buffer?: Float32Array, type: ComputePrecision = this.precision): Value {
    const existing = this.paramSpecs.get(name);
    if (existing) {
      if (existing.shape.join() !== shape.join()) throw new Error(`parameter ${name} declared as [${existing.shape}] and [${shape}]`);
      if (this.paramTypes.get(name) !== type) throw new Error(`parameter ${name} declared as ${this.paramTypes.get(name)} and ${type}`);
      return { name };
    }
    if (buffer && buffer.length !== shape.reduce((a, b) => a * b, 1)) throw new Error(`buffer of ${name} does not match [${shape}]`);
    this.paramSpecs.set(name, { name, shape, ...(buffer ? { buffer } : {}) });
    this.paramTypes.set(name, type);
    this.names.set(name, 1);
    return { name };
  }

  /** The type `name` is stored as (the compute type unless declared otherwise). */
  paramType(name: string): ComputePrecision {
    return this.paramTypes.get(name) ?? this.precision;
  }

  /**
   * A weight stored in a different layout than the state dict's (see StoredLayout); `shape` is the
   * state-dict shape, which is what weight sources and key checks see.
   */
  storedParam(name: string, shape: number[], layout: StoredLayout, type: ComputePrecision = this.precision): Value {
    const existing = this.layouts.get(name);
    if (this.paramSpecs.has(name) && JSON.stringify(existing) !== JSON.stringify(layout)) {
      throw new Error(`parameter ${name} declared with two layouts`);
    }
    if (layout.kind === 'transpose' && shape.length !== 2) throw new Error(`parameter ${name}: only 2-D weights can be stored transposed`);
    if (layout.kind === 'reshape' && layout.shape.reduce((a, b) => a * b, 1) !== shape.reduce((a, b) => a * b, 1)) {
      throw new Error(`parameter ${name}: cannot store [${shape}] as [${layout.shape}]`);
    }
    this.layouts.set(name, layout);
    return this.param(name, shape, undefined, type);
  }

  get params(): ParamSpec[] {
    return [...this.paramSpecs.values()];
  }

  /** A small constant tensor embedded in the graph (float ones in the compute type unless `type` is given). */
  constant(values: readonly number[] | Float32Array, shape: number[], type: ElementType = this.precision, hint = 'const'): Value {
    const cacheKey = values.length <= 64 ? `${type}[${shape}]${Array.from(values).join(',')}` : undefined;
    const cached = cacheKey === undefined ? undefined : this.constantCache.get(cacheKey);
    if (cached) return cached;
    const name = this.fresh(hint);
    let raw: Uint8Array;
    if (type === 'int64') {
      const data = BigInt64Array.from(values as readonly number[], (v) => BigInt(v));
      raw = new Uint8Array(data.buffer);
    } else if (type === 'float16') {
      raw = new Uint8Array(float32ToFloat16Bits(Float32Array.from(values)).buffer);
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

  scalar(value: number, hint = 'scalar', type: ElementType = this.precision): Value {
    return this.constant([value], [], type, hint);
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
   * Writes the model to `file`. Weights are read one at a time from `weights` and stored in their
   * declared type (float32 → float16 rounds to nearest even); with an external-data threshold,
   * large ones stream into the external-data file (`<file>.data`, or `options.externalData`) at
   * 4 KiB-aligned offsets (64 bytes for those under 64 KiB), and tensors that file already holds with the same name, type, shape and
   * bytes are referenced instead of written again.
   */
  async write(file: string, weights: WeightSource, options: WriteOptions = {}): Promise<WrittenGraph> {
    const threshold = options.externalDataThreshold ?? Number.POSITIVE_INFINITY;
    const data = options.externalData ?? externalDataFile(`${file}.data`);
    if (resolve(dirname(data.path)) !== resolve(dirname(file))) throw new Error(`write ${file}: external data ${data.path} must be in the same folder`);
    if (data.bytes > 0 && (!existsSync(data.path) || statSync(data.path).size !== data.bytes)) {
      throw new Error(`write ${file}: external data ${data.path} does not hold the ${data.bytes} bytes recorded`);
    }
    const location = basename(data.path);
    const initializers: OnnxTensor[] = [...this.constants];
    let external: ReturnType<typeof createWriteStream> | undefined;
    let referenced = false;
    let reusedTensors = 0;
    for (const spec of this.paramSpecs.values()) {
      const values = await weights.read(spec);
      const expected = spec.shape.reduce((a, b) => a * b, 1);
      if (values.length !== expected) throw new Error(`weight ${spec.name}: got ${values.length} values for shape [${spec.shape}]`);
      const layout = this.layouts.get(spec.name);
      const arranged = layout?.kind === 'transpose' ? transpose2d(values, spec.shape[0]!, spec.shape[1]!) : values;
      const dims = layout?.kind === 'transpose' ? [spec.shape[1]!, spec.shape[0]!] : layout?.kind === 'reshape' ? layout.shape : spec.shape;
      const half = this.paramType(spec.name) === 'float16';
      const dataType = half ? OnnxDataType.FLOAT16 : OnnxDataType.FLOAT;
      const stored = half ? float32ToFloat16Bits(arranged) : arranged;
      const bytes = new Uint8Array(stored.buffer, stored.byteOffset, stored.byteLength);
      if (bytes.byteLength < threshold) {
        initializers.push({ name: spec.name, dataType, dims, raw: half ? bytes : bytes.slice() });
        continue;
      }
      referenced = true;
      const digest = createHash('sha1').update(bytes).digest('hex');
      const held = data.tensors.get(spec.name);
      if (held && held.digest === digest && held.dataType === dataType && held.dims.join() === dims.join()) {
        initializers.push({ name: spec.name, dataType, dims, external: { location, offset: held.offset, length: held.length } });
        reusedTensors++;
        continue;
      }
      external ??= createWriteStream(data.path, { flags: data.bytes === 0 ? 'w' : 'a' });
      const alignment = bytes.byteLength >= LARGE_TENSOR ? EXTERNAL_ALIGNMENT : SMALL_ALIGNMENT;
      const padding = (alignment - (data.bytes % alignment)) % alignment;
      if (padding > 0 && !external.write(new Uint8Array(padding))) await once(external, 'drain');
      data.bytes += padding;
      // Copy: the stream may hold the chunk after the source array is reused by the weight reader.
      if (!external.write(half ? bytes : bytes.slice())) await once(external, 'drain');
      const tensor: ExternalTensor = { offset: data.bytes, length: bytes.byteLength, dataType, dims, digest };
      // A same-named tensor with other contents stays where it is for the graphs that use it.
      if (!held) data.tensors.set(spec.name, tensor);
      initializers.push({ name: spec.name, dataType, dims, external: { location, offset: tensor.offset, length: tensor.length } });
      data.bytes += bytes.byteLength;
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
    return { file, ...(referenced ? { externalDataFile: data.path } : {}), externalData: data, params: this.paramSpecs.size, reusedTensors };
  }
}

function transpose2d(data: Float32Array, rows: number, columns: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < columns; c++) out[c * rows + r] = data[r * columns + c]!;
  return out;
}
