import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isOneLineUserError, runCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'head3d-generate-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('head3d generate', () => {
  it('refuses bad input with one line and writes nothing', async () => {
    const out = join(dir, 'views');
    writeFileSync(join(dir, 'crop.png'), 'not really a png');
    const noManifest = join(dir, 'empty-bundle');
    const cases = [
      ['generate', dir, '-o', out], // no --models, no HEAD3D_MODELS
      ['generate', join(dir, 'missing'), '--models', dir, '-o', out],
      ['generate', dir, '--models', join(dir, 'no-such-bundle'), '-o', out],
      ['generate', dir, '--models', dir, '-o', out], // a folder without manifest.json
      ['generate', join(dir, 'crop.png'), '--models', dir, '-o', out, '--provider', 'gpu'],
    ];
    for (const args of cases) {
      const result = await runCli(args);
      expect(isOneLineUserError(result), `${args.join(' ')}\n${result.stderr}`).toBe(true);
      expect(existsSync(out)).toBe(false);
    }
    const usage = await runCli(['generate', dir, '--models', noManifest, '-o', out, '--steps', 'x']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--steps/);
  });
});
