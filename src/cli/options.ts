import { InvalidArgumentError } from 'commander';

/** Commander parsers that reject bad values with a message naming the expected form. */
export function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive whole number.');
  return n;
}

export function nonNegativeInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number ≥ 0.');
  return n;
}

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number.');
  return n;
}

export function numberList(value: string): number[] {
  const list = value.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  if (list.length === 0 || list.some((n) => !Number.isFinite(n))) {
    throw new InvalidArgumentError('expected comma-separated numbers, e.g. 20,-15.');
  }
  return list;
}
