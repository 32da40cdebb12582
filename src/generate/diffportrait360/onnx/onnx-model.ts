/**
 * Plain-object ONNX model description and its protobuf encoding (field numbers from onnx.proto,
 * IR version 8). Only what the head3d graph builder emits is supported.
 */
import { ProtoWriter } from './protobuf-writer.js';

export const IR_VERSION = 8;
export const DEFAULT_OPSET = 18;

export const enum OnnxDataType {
  FLOAT = 1,
  UINT8 = 2,
  INT32 = 6,
  INT64 = 7,
  BOOL = 9,
  FLOAT16 = 10,
}

export type OnnxDim = number | string;

export interface OnnxValueInfo {
  name: string;
  elemType: OnnxDataType;
  shape: OnnxDim[];
}

export interface OnnxTensor {
  name: string;
  dataType: OnnxDataType;
  dims: number[];
  /** Little-endian bytes; absent when the data lives in an external file. */
  raw?: Uint8Array;
  external?: { location: string; offset: number; length: number };
}

export type OnnxAttributeValue = number | string | number[] | { ints: number[] } | { floats: number[] } | { float: number } | { tensor: OnnxTensor };

export interface OnnxNode {
  opType: string;
  domain?: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attributes: Record<string, OnnxAttributeValue>;
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
}

export interface OnnxModel {
  graph: OnnxGraph;
  opsets: { domain: string; version: number }[];
  producerVersion: string;
  metadata?: Record<string, string>;
}

const ATTRIBUTE_FLOAT = 1;
const ATTRIBUTE_INT = 2;
const ATTRIBUTE_STRING = 3;
const ATTRIBUTE_TENSOR = 4;
const ATTRIBUTE_FLOATS = 6;
const ATTRIBUTE_INTS = 7;

function writeTensor(w: ProtoWriter, t: OnnxTensor): void {
  w.packedInts(1, t.dims);
  w.int(2, t.dataType);
  w.string(8, t.name);
  if (t.raw) w.bytes(9, t.raw);
  if (t.external) {
    const entries: [string, string][] = [
      ['location', t.external.location],
      ['offset', String(t.external.offset)],
      ['length', String(t.external.length)],
    ];
    for (const [key, value] of entries) w.message(13, (e) => e.string(1, key).string(2, value));
    w.int(14, 1);
  }
}

function writeAttribute(w: ProtoWriter, name: string, value: OnnxAttributeValue): void {
  w.string(1, name);
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error(`attribute ${name}: use { float } for non-integer ${value}`);
    w.int(3, value).int(20, ATTRIBUTE_INT);
  } else if (typeof value === 'string') {
    w.string(4, value).int(20, ATTRIBUTE_STRING);
  } else if (Array.isArray(value)) {
    w.packedInts(8, value).int(20, ATTRIBUTE_INTS);
  } else if ('ints' in value) {
    w.packedInts(8, value.ints).int(20, ATTRIBUTE_INTS);
  } else if ('floats' in value) {
    w.packedFloats(7, value.floats).int(20, ATTRIBUTE_FLOATS);
  } else if ('float' in value) {
    w.float(2, value.float).int(20, ATTRIBUTE_FLOAT);
  } else {
    w.message(5, (t) => writeTensor(t, value.tensor)).int(20, ATTRIBUTE_TENSOR);
  }
}

function writeValueInfo(w: ProtoWriter, v: OnnxValueInfo): void {
  w.string(1, v.name);
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, v.elemType);
      tensor.message(2, (shape) => {
        for (const d of v.shape) shape.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.string(2, d)));
      });
    }),
  );
}

function writeNode(w: ProtoWriter, n: OnnxNode): void {
  for (const input of n.inputs) w.string(1, input);
  for (const output of n.outputs) w.string(2, output);
  w.string(3, n.name);
  w.string(4, n.opType);
  for (const [name, value] of Object.entries(n.attributes)) w.message(5, (a) => writeAttribute(a, name, value));
  if (n.domain) w.string(7, n.domain);
}

export function encodeModel(model: OnnxModel): Uint8Array {
  const w = new ProtoWriter();
  w.int(1, IR_VERSION);
  w.string(2, 'head3d');
  w.string(3, model.producerVersion);
  w.message(7, (g) => {
    for (const node of model.graph.nodes) g.message(1, (n) => writeNode(n, node));
    g.string(2, model.graph.name);
    for (const init of model.graph.initializers) g.message(5, (t) => writeTensor(t, init));
    for (const input of model.graph.inputs) g.message(11, (v) => writeValueInfo(v, input));
    for (const output of model.graph.outputs) g.message(12, (v) => writeValueInfo(v, output));
  });
  for (const opset of model.opsets) w.message(8, (o) => o.string(1, opset.domain).int(2, opset.version));
  for (const [key, value] of Object.entries(model.metadata ?? {})) w.message(14, (e) => e.string(1, key).string(2, value));
  return w.finish();
}
