import { readFile } from 'node:fs/promises';
import { Head3dError, fileError } from './errors.js';

/** Reads and parses a JSON file; a missing file or malformed JSON is a one-line user error. */
export async function readJsonFile(path: string, what = 'JSON file'): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw fileError(error, path, what);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new Head3dError(`${path} is not valid JSON (${detail})`, { hint: `fix or regenerate the ${what}` });
  }
}

/** Small field validators that name the offending field in their message. */
export class FieldReader {
  constructor(private readonly source: string) {}

  fail(field: string, expected: string): never {
    throw new Head3dError(`${this.source}: ${field} ${expected}`, { hint: 'fix that field or regenerate the file' });
  }

  object(value: unknown, field: string): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) this.fail(field, 'must be an object');
    return value as Record<string, unknown>;
  }

  array(value: unknown, field: string): unknown[] {
    if (!Array.isArray(value)) this.fail(field, 'must be an array');
    return value;
  }

  number(value: unknown, field: string, options: { positive?: boolean; allowString?: boolean } = {}): number {
    let n = value;
    if (options.allowString && typeof value === 'string' && value.trim() !== '') n = Number(value);
    if (typeof n !== 'number' || !Number.isFinite(n)) this.fail(field, 'must be a finite number');
    if (options.positive && n <= 0) this.fail(field, 'must be positive');
    return n;
  }

  optionalNumber(value: unknown, field: string, options: { positive?: boolean } = {}): number | undefined {
    return value === undefined || value === null ? undefined : this.number(value, field, options);
  }

  string(value: unknown, field: string): string {
    if (typeof value !== 'string' || value === '') this.fail(field, 'must be a non-empty string');
    return value;
  }

  /** A 4×4 matrix given as 4 rows of 4 numbers (or 16 numbers), returned row-major. */
  matrix4(value: unknown, field: string): number[] {
    const rows = this.array(value, field);
    const flat = rows.length === 4 && rows.every(Array.isArray) ? (rows as unknown[][]).flat() : rows;
    if (flat.length !== 16) this.fail(field, 'must be a 4×4 matrix (4 rows of 4 numbers)');
    return flat.map((n, i) => this.number(n, `${field}[${Math.floor(i / 4)}][${i % 4}]`));
  }
}
