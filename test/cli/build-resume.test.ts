import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { validateGlb } from '../../src/export/gltf/validate.js';
import { REPO_ROOT, SHARED_DATA, runCli } from '../helpers/cli.js';

const PORTRAIT = join(SHARED_DATA, 'portraits/astronaut.png');

/** Starts the CLI and SIGKILLs it as soon as `file` exists; resolves with the signal it died of. */
function killWhenExists(args: string[], file: string, timeoutMs: number): Promise<{ signal: NodeJS.Signals | null; code: number | null; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [resolve(REPO_ROOT, 'dist/cli/main.js'), ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const poll = setInterval(() => existsSync(file) && child.kill('SIGKILL'), 50);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', fail);
    child.on('close', (code, signal) => {
      clearInterval(poll);
      clearTimeout(timer);
      done({ code, signal, stderr });
    });
  });
}

describe('head3d build after a kill', () => {
  const dir = mkdtempSync(join(tmpdir(), 'head3d-build-resume-'));
  const output = join(dir, 'head.glb');
  const work = join(dir, 'head.work');
  const args = ['build', PORTRAIT, '-o', output, '--quality', 'test', '--checkpoint-seconds', '1'];
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('resumes the fit from field.h3df.resume and finishes; no file named like the output exists before', async () => {
    const killed = await killWhenExists(args, join(work, 'field.h3df.resume'), 240_000);
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    expect(killed.stderr).toMatch(/\[3\/4\] fit: step/);
    expect(existsSync(join(work, 'field.h3df.resume'))).toBe(true);
    expect(existsSync(join(work, 'field.h3df'))).toBe(false);
    copyFileSync(join(work, 'field.h3df.resume'), join(dir, 'stale.resume'));
    expect(readdirSync(dir).filter((name) => name.startsWith('head.glb'))).toEqual([]);
    const record = JSON.parse(readFileSync(join(work, 'stage.json'), 'utf8')) as { stages: Record<string, unknown> };
    expect(Object.keys(record.stages).sort()).toEqual(['generate', 'preprocess']);

    const rerun = await runCli(['--json', ...args], { timeoutMs: 240_000 });
    expect(rerun.code, rerun.stderr).toBe(0);
    const summary = JSON.parse(rerun.stdout) as { stages: { stage: string; skipped: boolean; facts: Record<string, unknown> }[] };
    expect(summary.stages.map((s) => s.skipped)).toEqual([true, true, false, false]);
    const fit = summary.stages.find((s) => s.stage === 'fit')!.facts;
    expect(fit.resumedFromStep as number).toBeGreaterThan(0);
    expect(fit.steps as number).toBeGreaterThan(fit.resumedFromStep as number);
    expect(existsSync(join(work, 'field.h3df.resume'))).toBe(false);
    const validation = await validateGlb(new Uint8Array(readFileSync(output)));
    expect(validation.errors, validation.messages.join('\n')).toBe(0);
    expect(readdirSync(dir).filter((name) => name.startsWith('head.glb'))).toEqual(['head.glb']);
  }, 480_000);

  it('does not resume from a checkpoint made for other views or options', async () => {
    // The kill's checkpoint is tagged with the seed-42 fit's key: a seed-7 build must start afresh.
    copyFileSync(join(dir, 'stale.resume'), join(work, 'field.h3df.resume'));
    const rerun = await runCli(['--json', 'build', PORTRAIT, '-o', output, '--quality', 'test', '--seed', '7'], { timeoutMs: 240_000 });
    expect(rerun.code, rerun.stderr).toBe(0);
    const summary = JSON.parse(rerun.stdout) as { stages: { stage: string; facts: Record<string, unknown> }[] };
    expect(summary.stages.find((s) => s.stage === 'fit')!.facts.resumedFromStep).toBeNull();
    expect(existsSync(join(work, 'field.h3df.resume'))).toBe(false);
  }, 240_000);
});
