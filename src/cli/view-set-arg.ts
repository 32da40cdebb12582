import { statSync } from 'node:fs';
import { join } from 'node:path';
import { Head3dError } from '../core/errors.js';
import { type ViewSet, readTransformsJson } from '../core/transforms-json.js';

/** Reads a view set named by its transforms.json or by the directory holding one. */
export async function readViewSetArgument(path: string): Promise<{ viewSet: ViewSet; transformsPath: string }> {
  let transformsPath = path;
  try {
    if (statSync(path).isDirectory()) transformsPath = join(path, 'transforms.json');
  } catch {
    throw new Head3dError(`view set not found: ${path}`, { hint: 'pass a transforms.json or the directory that holds it' });
  }
  return { viewSet: await readTransformsJson(transformsPath), transformsPath };
}
