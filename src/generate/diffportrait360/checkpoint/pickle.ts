/**
 * The subset of Python's pickle (protocol 2) that torch.save writes for state dicts. Nothing is
 * executed: the few globals a state dict names (OrderedDict, the tensor and parameter rebuilders,
 * the storage classes) map to plain values; any other global or opcode is an error naming it.
 */

/** A storage reference (torch's persistent id ('storage', type, key, location, numel)). */
export interface StorageRef {
  readonly kind: 'storage';
  /** Storage class name, e.g. 'FloatStorage'. */
  readonly storageType: string;
  /** The entry `<archive>/data/<key>`. */
  readonly key: string;
  readonly location: string;
  readonly numel: number;
}

/** A tensor as `torch._utils._rebuild_tensor_v2` would build it: a strided view of a storage. */
export interface TensorRef {
  readonly kind: 'tensor';
  readonly storage: StorageRef;
  readonly storageOffset: number;
  readonly shape: number[];
  readonly stride: number[];
  readonly requiresGrad: boolean;
}

/** A global the unpickler knows (a class or function object). */
export interface PickleGlobal {
  readonly kind: 'global';
  readonly module: string;
  readonly name: string;
}

export type PickleValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PickleValue[]
  | PickleTuple
  | PickleDict
  | StorageRef
  | TensorRef
  | PickleGlobal;

/** Tuples are frozen arrays tagged so that they are told apart from lists. */
export type PickleTuple = readonly PickleValue[] & { readonly tuple: true };
/** dict and OrderedDict (insertion order kept). */
export type PickleDict = Map<PickleValue, PickleValue>;

export class UnpicklingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnpicklingError';
  }
}

const STORAGE_TYPES = new Set([
  'FloatStorage',
  'DoubleStorage',
  'HalfStorage',
  'BFloat16Storage',
  'LongStorage',
  'IntStorage',
  'ShortStorage',
  'CharStorage',
  'ByteStorage',
  'BoolStorage',
]);

const KNOWN_GLOBALS = new Set([
  'collections.OrderedDict',
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_parameter',
  'torch._utils._rebuild_parameter_with_state',
  'torch.device',
  ...[...STORAGE_TYPES].map((s) => `torch.${s}`),
]);

const MARK = Symbol('mark');
type StackItem = PickleValue | typeof MARK;

function tuple(items: PickleValue[]): PickleTuple {
  return Object.assign(items, { tuple: true as const }) as unknown as PickleTuple;
}

export function isTuple(value: unknown): value is PickleTuple {
  return Array.isArray(value) && (value as { tuple?: boolean }).tuple === true;
}

export function isTensorRef(value: unknown): value is TensorRef {
  return typeof value === 'object' && value !== null && (value as { kind?: string }).kind === 'tensor';
}

export function isDict(value: unknown): value is PickleDict {
  return value instanceof Map;
}

const OPCODE_NAMES: Record<number, string> = {
  0x28: 'MARK', 0x2e: 'STOP', 0x30: 'POP', 0x31: 'POP_MARK', 0x32: 'DUP', 0x46: 'FLOAT', 0x49: 'INT', 0x4a: 'BININT',
  0x4b: 'BININT1', 0x4c: 'LONG', 0x4d: 'BININT2', 0x4e: 'NONE', 0x50: 'PERSID', 0x51: 'BINPERSID', 0x52: 'REDUCE',
  0x53: 'STRING', 0x54: 'BINSTRING', 0x55: 'SHORT_BINSTRING', 0x56: 'UNICODE', 0x58: 'BINUNICODE', 0x61: 'APPEND',
  0x62: 'BUILD', 0x63: 'GLOBAL', 0x64: 'DICT', 0x7d: 'EMPTY_DICT', 0x65: 'APPENDS', 0x67: 'GET', 0x68: 'BINGET',
  0x69: 'INST', 0x6a: 'LONG_BINGET', 0x6c: 'LIST', 0x5d: 'EMPTY_LIST', 0x6f: 'OBJ', 0x70: 'PUT', 0x71: 'BINPUT',
  0x72: 'LONG_BINPUT', 0x73: 'SETITEM', 0x74: 'TUPLE', 0x29: 'EMPTY_TUPLE', 0x75: 'SETITEMS', 0x47: 'BINFLOAT',
  0x80: 'PROTO', 0x81: 'NEWOBJ', 0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4', 0x85: 'TUPLE1', 0x86: 'TUPLE2',
  0x87: 'TUPLE3', 0x88: 'NEWTRUE', 0x89: 'NEWFALSE', 0x8a: 'LONG1', 0x8b: 'LONG4', 0x42: 'BINBYTES',
  0x43: 'SHORT_BINBYTES', 0x8c: 'SHORT_BINUNICODE', 0x8d: 'BINUNICODE8', 0x8e: 'BINBYTES8', 0x8f: 'EMPTY_SET',
  0x90: 'ADDITEMS', 0x91: 'FROZENSET', 0x92: 'NEWOBJ_EX', 0x93: 'STACK_GLOBAL', 0x94: 'MEMOIZE', 0x95: 'FRAME',
  0x96: 'BYTEARRAY8', 0x97: 'NEXT_BUFFER', 0x98: 'READONLY_BUFFER',
};

function asInt(value: PickleValue, what: string): number {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'bigint' && value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= -BigInt(Number.MAX_SAFE_INTEGER)) return Number(value);
  throw new UnpicklingError(`${what} is not an integer`);
}

function asIntList(value: PickleValue, what: string): number[] {
  if (!Array.isArray(value)) throw new UnpicklingError(`${what} is not a tuple`);
  return value.map((v, i) => asInt(v, `${what}[${i}]`));
}

function decodeLong(bytes: Uint8Array): number | bigint {
  if (bytes.length === 0) return 0;
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]!);
  if (bytes[bytes.length - 1]! & 0x80) value -= 1n << BigInt(8 * bytes.length);
  return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}

function call(fn: PickleValue, args: PickleValue): PickleValue {
  if (typeof fn !== 'object' || fn === null || (fn as PickleGlobal).kind !== 'global') throw new UnpicklingError('REDUCE on a value that is not a known global');
  if (!Array.isArray(args)) throw new UnpicklingError('REDUCE arguments are not a tuple');
  const g = fn as PickleGlobal;
  const qualified = `${g.module}.${g.name}`;
  switch (qualified) {
    case 'collections.OrderedDict':
      if (args.length !== 0) throw new UnpicklingError('OrderedDict(...) with arguments is not supported');
      return new Map();
    case 'torch._utils._rebuild_tensor_v2': {
      // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
      const storage = args[0] as StorageRef;
      if (typeof storage !== 'object' || storage === null || (storage as StorageRef).kind !== 'storage') throw new UnpicklingError('_rebuild_tensor_v2: first argument is not a storage');
      const shape = asIntList(args[2]!, 'tensor size');
      const stride = asIntList(args[3]!, 'tensor stride');
      if (shape.length !== stride.length) throw new UnpicklingError('_rebuild_tensor_v2: size and stride differ in length');
      const tensor: TensorRef = { kind: 'tensor', storage, storageOffset: asInt(args[1]!, 'storage offset'), shape, stride, requiresGrad: args[4] === true };
      return tensor;
    }
    case 'torch._utils._rebuild_parameter':
    case 'torch._utils._rebuild_parameter_with_state': {
      // (data, requires_grad, backward_hooks[, state]): a Parameter is its data for our purposes.
      const data = args[0];
      if (!isTensorRef(data)) throw new UnpicklingError(`${g.name}: data is not a tensor`);
      return { ...data, requiresGrad: args[1] === true };
    }
    case 'torch.device':
      return args.map(String).join(':');
    default:
      throw new UnpicklingError(`cannot call pickle global ${qualified}`);
  }
}

/**
 * Unpickles `data` (a torch `data.pkl`). `persistentLoad` is not needed: BINPERSID tuples of the
 * form ('storage', storage_type, key, location, numel) become StorageRef values.
 */
export function unpickle(data: Uint8Array): PickleValue {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const stack: StackItem[] = [];
  const memo = new Map<number, PickleValue>();
  let pos = 0;

  const need = (n: number): void => {
    if (pos + n > bytes.length) throw new UnpicklingError(`pickle data ends early (at byte ${pos}, need ${n} more)`);
  };
  const popMark = (): PickleValue[] => {
    for (let i = stack.length - 1; i >= 0; i--) {
      if (stack[i] === MARK) {
        const items = stack.splice(i) as PickleValue[];
        items.shift();
        return items;
      }
    }
    throw new UnpicklingError('MARK not found');
  };
  const pop = (): PickleValue => {
    const value = stack.pop();
    if (value === undefined || value === MARK) throw new UnpicklingError('stack underflow');
    return value;
  };
  const top = (): PickleValue => {
    const value = stack[stack.length - 1];
    if (value === undefined || value === MARK) throw new UnpicklingError('stack underflow');
    return value;
  };
  const readLine = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) throw new UnpicklingError('pickle data ends inside a text line');
    const line = bytes.toString('latin1', pos, end);
    pos = end + 1;
    return line;
  };
  const setItems = (dict: PickleValue, items: PickleValue[]): void => {
    if (!isDict(dict)) throw new UnpicklingError('SETITEM(S) on a value that is not a dict');
    for (let i = 0; i + 1 < items.length; i += 2) dict.set(items[i]!, items[i + 1]!);
  };
  const appendItems = (list: PickleValue, items: PickleValue[]): void => {
    if (!Array.isArray(list) || isTuple(list)) throw new UnpicklingError('APPEND(S) on a value that is not a list');
    (list as PickleValue[]).push(...items);
  };

  for (;;) {
    need(1);
    const opcode = bytes[pos++]!;
    switch (opcode) {
      case 0x80: // PROTO
        need(1);
        if (bytes[pos]! > 5) throw new UnpicklingError(`pickle protocol ${bytes[pos]} is not supported`);
        pos += 1;
        break;
      case 0x95: // FRAME (protocol 4 framing: the frame length is only a hint)
        need(8);
        pos += 8;
        break;
      case 0x2e: // STOP
        return pop();
      case 0x28: // MARK
        stack.push(MARK);
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(tuple([]));
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4a: // BININT
        need(4);
        stack.push(bytes.readInt32LE(pos));
        pos += 4;
        break;
      case 0x4b: // BININT1
        need(1);
        stack.push(bytes[pos++]!);
        break;
      case 0x4d: // BININT2
        need(2);
        stack.push(bytes.readUInt16LE(pos));
        pos += 2;
        break;
      case 0x8a: {
        // LONG1
        need(1);
        const n = bytes[pos++]!;
        need(n);
        stack.push(decodeLong(bytes.subarray(pos, pos + n)));
        pos += n;
        break;
      }
      case 0x47: // BINFLOAT (big-endian double)
        need(8);
        stack.push(bytes.readDoubleBE(pos));
        pos += 8;
        break;
      case 0x58: {
        // BINUNICODE
        need(4);
        const n = bytes.readUInt32LE(pos);
        pos += 4;
        need(n);
        stack.push(bytes.toString('utf8', pos, pos + n));
        pos += n;
        break;
      }
      case 0x8c: {
        // SHORT_BINUNICODE
        need(1);
        const n = bytes[pos++]!;
        need(n);
        stack.push(bytes.toString('utf8', pos, pos + n));
        pos += n;
        break;
      }
      case 0x43: {
        // SHORT_BINBYTES
        need(1);
        const n = bytes[pos++]!;
        need(n);
        stack.push(new Uint8Array(bytes.subarray(pos, pos + n)));
        pos += n;
        break;
      }
      case 0x42: {
        // BINBYTES
        need(4);
        const n = bytes.readUInt32LE(pos);
        pos += 4;
        need(n);
        stack.push(new Uint8Array(bytes.subarray(pos, pos + n)));
        pos += n;
        break;
      }
      case 0x74: // TUPLE
        stack.push(tuple(popMark()));
        break;
      case 0x85: // TUPLE1
        stack.push(tuple([pop()]));
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        const a = pop();
        stack.push(tuple([a, b]));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        const a = pop();
        stack.push(tuple([a, b, c]));
        break;
      }
      case 0x63: {
        // GLOBAL
        const module = readLine();
        const name = readLine();
        const qualified = `${module}.${name}`;
        if (!KNOWN_GLOBALS.has(qualified)) throw new UnpicklingError(`unsupported pickle global ${qualified}`);
        stack.push({ kind: 'global', module, name });
        break;
      }
      case 0x51: {
        // BINPERSID
        const pid = pop();
        if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length < 5) throw new UnpicklingError('persistent id is not a torch storage reference');
        const type = pid[1] as PickleGlobal;
        if (typeof type !== 'object' || type === null || type.kind !== 'global' || !STORAGE_TYPES.has(type.name)) throw new UnpicklingError('persistent id names an unknown storage type');
        const storage: StorageRef = { kind: 'storage', storageType: type.name, key: String(pid[2]), location: String(pid[3]), numel: asInt(pid[4]!, 'storage numel') };
        stack.push(storage);
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const fn = pop();
        stack.push(call(fn, args));
        break;
      }
      case 0x62: {
        // BUILD: only the state of an OrderedDict (its __dict__, e.g. `_metadata`) occurs; dropped.
        pop();
        const target = top();
        if (!isDict(target) && !isTensorRef(target)) throw new UnpicklingError('BUILD on a value that is not a dict or tensor');
        break;
      }
      case 0x73: {
        // SETITEM
        const value = pop();
        const key = pop();
        setItems(top(), [key, value]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x61: {
        // APPEND
        const value = pop();
        appendItems(top(), [value]);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x71: // BINPUT
        need(1);
        memo.set(bytes[pos++]!, top());
        break;
      case 0x72: // LONG_BINPUT
        need(4);
        memo.set(bytes.readUInt32LE(pos), top());
        pos += 4;
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
      case 0x6a: {
        // LONG_BINGET
        const size = opcode === 0x68 ? 1 : 4;
        need(size);
        const index = size === 1 ? bytes[pos]! : bytes.readUInt32LE(pos);
        pos += size;
        if (!memo.has(index)) throw new UnpicklingError(`memo entry ${index} is missing`);
        stack.push(memo.get(index)!);
        break;
      }
      default: {
        const name = OPCODE_NAMES[opcode];
        throw new UnpicklingError(`unsupported pickle opcode ${name ?? 'unknown'} (0x${opcode.toString(16).padStart(2, '0')}) at byte ${pos - 1}`);
      }
    }
  }
}
