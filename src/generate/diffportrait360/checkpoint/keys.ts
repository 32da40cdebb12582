/**
 * Checks a checkpoint's state-dict keys and shapes against the list a graph builder expects, as
 * torch's strict load_state_dict would, and reports every difference at once.
 *
 * @example
 * const report = compareKeys(ckpt.tensors.values(), builder.expectedTensors());
 * assertKeysMatch(report, { what: 'checkpoint model_state-340000.th', model: 'orbit' });
 */
import { Head3dError } from '../../../core/errors.js';

export interface KeyShape {
  key: string;
  shape: readonly number[];
}

export interface MisshapedKey {
  key: string;
  expected: readonly number[];
  actual: readonly number[];
}

export interface KeyReport {
  /** Expected keys the checkpoint lacks. */
  missing: string[];
  /** Checkpoint keys nobody expects (those `ignoreUnexpected` accepts are left out). */
  unexpected: string[];
  /** Keys in both, with different shapes. */
  misshaped: MisshapedKey[];
  /** Keys in both with the same shape. */
  matched: number;
  ok: boolean;
}

export interface CompareKeysOptions {
  /** Checkpoint keys that may be present without being expected (e.g. schedule buffers). Default: none. */
  ignoreUnexpected?: (key: string) => boolean;
}

/** Compares actual (checkpoint) keys and shapes to the expected ones; order does not matter. */
export function compareKeys(actual: Iterable<KeyShape>, expected: Iterable<KeyShape>, options: CompareKeysOptions = {}): KeyReport {
  const have = new Map<string, readonly number[]>();
  for (const { key, shape } of actual) have.set(key, shape);
  const wanted = new Set<string>();
  const missing: string[] = [];
  const misshaped: MisshapedKey[] = [];
  let matched = 0;
  for (const { key, shape } of expected) {
    wanted.add(key);
    const got = have.get(key);
    if (got === undefined) missing.push(key);
    else if (got.length !== shape.length || got.some((n, i) => n !== shape[i])) misshaped.push({ key, expected: shape, actual: got });
    else matched++;
  }
  const unexpected = [...have.keys()].filter((key) => !wanted.has(key) && !(options.ignoreUnexpected?.(key) ?? false));
  return { missing, unexpected, misshaped, matched, ok: missing.length === 0 && unexpected.length === 0 && misshaped.length === 0 };
}

const shapeText = (shape: readonly number[]): string => `[${shape.join(',')}]`;

function listed<T>(items: T[], limit: number, text: (item: T) => string): string {
  const shown = items.slice(0, limit).map(text).join(', ');
  return items.length > limit ? `${shown}, … (${items.length - limit} more)` : shown;
}

/** One line: counts of each kind of difference and the first `limit` of each. */
export function formatKeyReport(report: KeyReport, limit = 3): string {
  const parts: string[] = [];
  if (report.missing.length) parts.push(`${report.missing.length} missing (${listed(report.missing, limit, (k) => k)})`);
  if (report.unexpected.length) parts.push(`${report.unexpected.length} unexpected (${listed(report.unexpected, limit, (k) => k)})`);
  if (report.misshaped.length) {
    parts.push(`${report.misshaped.length} with the wrong shape (${listed(report.misshaped, limit, (m) => `${m.key}: ${shapeText(m.actual)}, expected ${shapeText(m.expected)}`)})`);
  }
  return parts.length ? parts.join('; ') : `all ${report.matched} keys match`;
}

export interface AssertKeysOptions {
  /** What was checked, for the message, e.g. 'checkpoint back_head-230000.th'. */
  what: string;
  /** The model it was checked for, e.g. 'back', named in the message. */
  model?: string;
  limit?: number;
}

/** Throws a one-line Head3dError listing the differences when the report is not ok. */
export function assertKeysMatch(report: KeyReport, options: AssertKeysOptions): void {
  if (report.ok) return;
  const forModel = options.model ? ` the ${options.model} model` : ' the model';
  throw new Head3dError(`${options.what} does not fit${forModel}: ${formatKeyReport(report, options.limit)}`, {
    hint: 'check that the checkpoint is the one for this model (back_head-*.th for back, model_state-*.th for orbit) and this config',
  });
}
