/**
 * Tensors at the graph boundary and the check of a graph's inputs against its signature.
 * Kept free of onnxruntime so that the sampler and the tests can run on any runtime.
 */
import { Head3dError } from '../../../core/errors.js';
import type { GraphName, GraphSignature, ModelKind, TensorSignature } from '../signatures.js';

export interface Tensor {
  type: 'float32' | 'int64';
  dims: readonly number[];
  data: Float32Array | BigInt64Array;
}

/** The way every graph of a bundle is run: onnxruntime-node in production, a fake in tests. */
export interface DiffusionRuntime {
  /** The execution provider in use ('cpu', 'cuda', or a test name). */
  readonly provider: string;
  /** Runs one graph; inputs are checked against its signature, outputs come back by name. */
  run(model: ModelKind, graph: GraphName, feeds: Record<string, Tensor>): Promise<Record<string, Tensor>>;
  /** Opens these graphs now (optional; `run` opens them lazily otherwise). */
  load?(model: ModelKind, graphs: readonly GraphName[]): Promise<void>;
  /** Frees the sessions of one model (or all): the back model is not needed once the back view exists. */
  release(model?: ModelKind): Promise<void>;
}

export function float32Tensor(data: Float32Array, dims: readonly number[]): Tensor {
  return { type: 'float32', dims, data };
}

/** An int64 timestep tensor [count] filled with `timestep`. */
export function timestepTensor(timestep: number, count: number): Tensor {
  return { type: 'int64', dims: [count], data: new BigInt64Array(count).fill(BigInt(timestep)) };
}

export function elementCount(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/**
 * Checks `tensors` against `signatures` (names, types, shapes; 'B' and 'N' must take one value
 * across all tensors of the call, which `bound` carries from inputs to outputs). Returns the bound
 * symbolic dimensions.
 */
export function checkTensors(
  label: string,
  side: 'input' | 'output',
  signatures: readonly TensorSignature[],
  tensors: Record<string, Tensor>,
  bound: Record<string, number> = {},
): Record<string, number> {
  const expected = new Set(signatures.map((s) => s.name));
  const extra = Object.keys(tensors).find((name) => !expected.has(name));
  if (side === 'input' && extra !== undefined) throw new Head3dError(`graph ${label}: unexpected input ${extra}`, { hint: `its inputs are ${[...expected].join(', ')}` });
  for (const s of signatures) {
    const tensor = tensors[s.name];
    if (!tensor) throw new Head3dError(`graph ${label}: ${side} ${s.name} is missing`);
    if (tensor.type !== s.type) throw new Head3dError(`graph ${label}: ${side} ${s.name} is ${tensor.type}, expected ${s.type}`);
    const shapeText = `[${tensor.dims.join(',')}], expected [${s.shape.join(',')}]`;
    if (tensor.dims.length !== s.shape.length) throw new Head3dError(`graph ${label}: ${side} ${s.name} has shape ${shapeText}`);
    s.shape.forEach((dim, i) => {
      const actual = tensor.dims[i];
      if (typeof dim === 'number') {
        if (actual !== dim) throw new Head3dError(`graph ${label}: ${side} ${s.name} has shape ${shapeText}`);
      } else if (bound[dim] === undefined) {
        if (!Number.isInteger(actual) || actual < 1) throw new Head3dError(`graph ${label}: ${side} ${s.name} has shape ${shapeText}`);
        bound[dim] = actual;
      } else if (bound[dim] !== actual) {
        throw new Head3dError(`graph ${label}: ${side} ${s.name} has shape ${shapeText} with ${dim}=${bound[dim]} from the other ${side}s`);
      }
    });
    if (tensor.data.length !== elementCount(tensor.dims)) throw new Head3dError(`graph ${label}: ${side} ${s.name} holds ${tensor.data.length} values for shape [${tensor.dims.join(',')}]`);
  }
  return bound;
}

/** Checks a whole call: inputs before, outputs after (catches a graph file that is not what the manifest says). */
export function checkInputs(label: string, signature: GraphSignature, feeds: Record<string, Tensor>): Record<string, number> {
  return checkTensors(label, 'input', signature.inputs, feeds);
}

export function checkOutputs(label: string, signature: GraphSignature, outputs: Record<string, Tensor>, bound: Record<string, number>): void {
  checkTensors(label, 'output', signature.outputs, outputs, { ...bound });
}
