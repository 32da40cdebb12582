/**
 * A minimal ONNX ModelProto reader for tests: the initializers (name, type, dims, external data),
 * the graph inputs/outputs (element types) and the nodes (op type, inputs, outputs) — enough to
 * check what GraphBuilder wrote without a protobuf library.
 */

export interface ReadTensor {
  name: string;
  dataType: number;
  dims: number[];
  external?: Record<string, string>;
}

export interface ReadModel {
  initializers: ReadTensor[];
  inputs: { name: string; elemType: number }[];
  outputs: { name: string; elemType: number }[];
  nodes: { opType: string; inputs: string[]; outputs: string[]; to?: number }[];
}

type Field = { field: number; value: number | Uint8Array };

function fields(bytes: Uint8Array): Field[] {
  const out: Field[] = [];
  let pos = 0;
  const varint = (): number => {
    let result = 0;
    let scale = 1;
    for (;;) {
      const b = bytes[pos++]!;
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 128;
    }
  };
  while (pos < bytes.length) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === 0) out.push({ field, value: varint() });
    else if (wire === 2) {
      const length = varint();
      out.push({ field, value: bytes.subarray(pos, pos + length) });
      pos += length;
    } else if (wire === 5) pos += 4;
    else if (wire === 1) pos += 8;
    else throw new Error(`wire type ${wire}`);
  }
  return out;
}

const text = (v: number | Uint8Array): string => new TextDecoder().decode(v as Uint8Array);
const sub = (v: number | Uint8Array): Field[] => fields(v as Uint8Array);

function packed(bytes: Uint8Array): number[] {
  const out: number[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    let result = 0;
    let scale = 1;
    for (;;) {
      const b = bytes[pos++]!;
      result += (b & 0x7f) * scale;
      if (b < 0x80) break;
      scale *= 128;
    }
    out.push(result);
  }
  return out;
}

function tensor(bytes: Field[]): ReadTensor {
  const t: ReadTensor = { name: '', dataType: 0, dims: [] };
  for (const { field, value } of bytes) {
    if (field === 1) t.dims.push(...(typeof value === 'number' ? [value] : packed(value)));
    else if (field === 2) t.dataType = value as number;
    else if (field === 8) t.name = text(value);
    else if (field === 13) {
      const entry = sub(value);
      t.external ??= {};
      t.external[text(entry.find((f) => f.field === 1)!.value)] = text(entry.find((f) => f.field === 2)!.value);
    }
  }
  return t;
}

function valueInfo(bytes: Field[]): { name: string; elemType: number } {
  const name = text(bytes.find((f) => f.field === 1)!.value);
  const type = sub(bytes.find((f) => f.field === 2)!.value);
  const tensorType = sub(type.find((f) => f.field === 1)!.value);
  return { name, elemType: tensorType.find((f) => f.field === 1)!.value as number };
}

export function readOnnxModel(bytes: Uint8Array): ReadModel {
  const model: ReadModel = { initializers: [], inputs: [], outputs: [], nodes: [] };
  const graph = sub(fields(bytes).find((f) => f.field === 7)!.value);
  for (const { field, value } of graph) {
    if (field === 5) model.initializers.push(tensor(sub(value)));
    else if (field === 11) model.inputs.push(valueInfo(sub(value)));
    else if (field === 12) model.outputs.push(valueInfo(sub(value)));
    else if (field === 1) {
      const node = sub(value);
      const to = node
        .filter((f) => f.field === 5)
        .map((f) => sub(f.value))
        .find((a) => text(a.find((f) => f.field === 1)!.value) === 'to');
      model.nodes.push({
        opType: text(node.find((f) => f.field === 4)!.value),
        inputs: node.filter((f) => f.field === 1).map((f) => text(f.value)),
        outputs: node.filter((f) => f.field === 2).map((f) => text(f.value)),
        ...(to ? { to: to.find((f) => f.field === 3)!.value as number } : {}),
      });
    }
  }
  return model;
}
