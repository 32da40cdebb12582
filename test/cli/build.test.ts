import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { validateGlb } from '../../src/export/gltf/validate.js';
import { SHARED_DATA, isOneLineUserError, runCli } from '../helpers/cli.js';

const PORTRAIT = join(SHARED_DATA, 'portraits/astronaut.png');

interface StageJson {
  stage: string;
  skipped: boolean;
  seconds: number;
  facts: Record<string, unknown>;
}

describe('head3d build', () => {
  const dir = mkdtempSync(join(tmpdir(), 'head3d-build-'));
  const output = join(dir, 'head.glb');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('builds a valid glb end to end (quality test), then skips every stage on a rerun', async () => {
    const first = await runCli(['--json', 'build', PORTRAIT, '-o', output, '--quality', 'test'], { timeoutMs: 240_000 });
    expect(first.code, first.stderr).toBe(0);
    const summary = JSON.parse(first.stdout) as { stages: StageJson[]; workDir: string; generator: string };
    expect(summary.generator).toBe('proxy');
    expect(summary.workDir).toBe(join(dir, 'head.work'));
    expect(summary.stages.map((s) => s.stage)).toEqual(['preprocess', 'generate', 'fit', 'export']);
    expect(summary.stages.every((s) => !s.skipped)).toBe(true);
    expect(existsSync(output)).toBe(true);
    const validation = await validateGlb(new Uint8Array(readFileSync(output)));
    expect(validation.errors, validation.messages.join('\n')).toBe(0);
    expect(existsSync(join(dir, 'head.work/views/transforms.json'))).toBe(true);
    expect(existsSync(join(dir, 'head.work/field.h3df.resume'))).toBe(false);
    const fit = summary.stages.find((s) => s.stage === 'fit')!;
    expect(typeof fit.facts.holdoutPsnr).toBe('number');

    const second = await runCli(['--json', 'build', PORTRAIT, '-o', output, '--quality', 'test'], { timeoutMs: 120_000 });
    expect(second.code, second.stderr).toBe(0);
    const again = JSON.parse(second.stdout) as { stages: StageJson[] };
    expect(again.stages.map((s) => s.skipped)).toEqual([true, true, true, true]);
    expect(again.stages.find((s) => s.stage === 'fit')!.facts.holdoutPsnr).toBe(fit.facts.holdoutPsnr);
  }, 300_000);

  it('rejects bad input with a one-line error and writes no output', async () => {
    const missing = join(dir, 'missing.glb');
    const cases = [
      ['build', join(dir, 'no-such-portrait.jpg'), '-o', missing, '--quality', 'test'],
      ['build', PORTRAIT, '-o', missing, '--quality', 'ultra'],
      ['build', PORTRAIT, '-o', missing, '--generator', 'diffportrait360'],
      ['build', PORTRAIT, '-o', join(dir, 'head.obj')],
      ['build', '-o', missing, '--generator', 'import'],
    ];
    for (const args of cases) {
      const result = await runCli(args);
      expect(isOneLineUserError(result), `${args.join(' ')}\n${result.stderr}`).toBe(true);
      expect(existsSync(missing)).toBe(false);
    }
  });

  it('refuses a folder that is not a DiffPortrait360 bundle before preprocessing', async () => {
    const result = await runCli(['build', PORTRAIT, '-o', join(dir, 'x.glb'), '--models', dir]);
    expect(isOneLineUserError(result)).toBe(true);
    expect(result.stderr).toMatch(/DiffPortrait360/);
  });
});
