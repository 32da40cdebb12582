import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

export const REPO_ROOT = resolve(__dirname, '../..');
export const SHARED_DATA = resolve(REPO_ROOT, '../shared/data');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI (`dist/cli/main.js`; `npm test` builds first) and collects its output. */
export function runCli(args: string[], options: { cwd?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [resolve(REPO_ROOT, 'dist/cli/main.js'), ...args], {
      cwd: options.cwd ?? REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

/** A user error: non-zero exit, a `head3d: …` line (plus an optional hint line), no stack trace. */
export function isOneLineUserError(result: CliResult): boolean {
  const lines = result.stderr.trim().split('\n');
  return (
    result.code !== 0 &&
    lines[0].startsWith('head3d: ') &&
    lines.length <= 2 &&
    (lines.length === 1 || lines[1].startsWith('  hint: ')) &&
    !/\n\s+at /.test(result.stderr)
  );
}
