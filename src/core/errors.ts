/**
 * Errors a user can cause (a bad file, a bad option, a missing model). The CLI prints them as one
 * line plus a hint and exits with `exitCode`; every other error is a bug and keeps its stack trace.
 */
export class Head3dError extends Error {
  readonly hint?: string;
  readonly exitCode: number;

  constructor(message: string, options: { hint?: string; exitCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'Head3dError';
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? 1;
  }
}

/** Exit code for a command line that cannot be understood (unknown option, missing argument). */
export const EXIT_USAGE = 2;

export function isHead3dError(error: unknown): error is Head3dError {
  return error instanceof Head3dError;
}

/** Node's errno error for a missing file, turned into a user error naming what was looked for. */
export function fileError(error: unknown, path: string, what = 'file'): Error {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return new Head3dError(`${what} not found: ${path}`, { hint: 'check the path' });
  if (code === 'EISDIR') return new Head3dError(`${what} is a directory, not a file: ${path}`);
  if (code === 'EACCES' || code === 'EPERM') return new Head3dError(`no permission to read ${what}: ${path}`);
  return error instanceof Error ? error : new Error(String(error));
}
