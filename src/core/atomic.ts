import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Head3dError } from './errors.js';

/** A sibling name that no other writer will pick; it never matches the final name's pattern. */
export function temporaryName(path: string): string {
  return `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/**
 * Writes `data` to `path` so that the final name only ever holds a complete file: the bytes go to a
 * temporary sibling first, which is renamed over `path` once fully written.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await ensureParentDirectory(path);
  const temporary = temporaryName(path);
  try {
    await writeFile(temporary, data);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw writeError(error, path);
  }
}

export async function ensureParentDirectory(path: string): Promise<void> {
  try {
    await mkdir(dirname(path), { recursive: true });
  } catch (error) {
    throw writeError(error, path);
  }
}

function writeError(error: unknown, path: string): Error {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return new Head3dError(`cannot write ${path}: permission denied`, { hint: 'choose an output path you can write to' });
  }
  if (code === 'ENOTDIR' || code === 'EEXIST') {
    return new Head3dError(`cannot write ${path}: a parent path is a file, not a directory`);
  }
  if (code === 'ENOSPC') return new Head3dError(`cannot write ${path}: the disk is full`);
  return error instanceof Error ? error : new Error(String(error));
}
