import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateGlb } from '../../src/export/gltf/validate.js';
import { SHARED_DATA, isOneLineUserError, runCli } from '../helpers/cli.js';

const glb = join(SHARED_DATA, 'leeperrysmith/LeePerrySmith.glb');
const texture = join(SHARED_DATA, 'leeperrysmith/Map-COL.jpg');
/** Small settings so an export of the tiny field takes a few seconds. */
const FAST = ['--resolution', '64', '--triangles', '2000', '--texture', '512', '--lods', '2', '--splats', '5000'];

let dir: string;
let field: string;

describe('head3d export', () => {
  beforeAll(async () => {
    // A real (if barely trained) checkpoint: 16 views at 48², 15 fit steps.
    dir = await mkdtemp(join(tmpdir(), 'h3d-export-'));
    const views = join(dir, 'views');
    const rendered = await runCli(['--quiet', 'render-views', glb, '--texture', texture, '--flip-v', '-o', views, '--size', '48', '--frames', '8', '--elevations', '20', '--supersample', '1']);
    expect(rendered.code, rendered.stderr).toBe(0);
    field = join(dir, 'field.h3df');
    const fitted = await runCli(['--quiet', 'fit', views, '-o', field, '--steps', '15', '--rays', '1024', '--threads', '2']);
    expect(fitted.code, fitted.stderr).toBe(0);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('exports a fitted field as a valid mesh glb plus splats (glb and .ply) within the triangle budget', async () => {
    const out = join(dir, 'out', 'head.glb');
    const result = await runCli(['--json', 'export', field, '-o', out, '--format', 'both', '--ply', ...FAST]);
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary.iso).toBeGreaterThan(0);
    expect(summary.mesh.triangles).toHaveLength(2);
    expect(summary.mesh.triangles[0]).toBeLessThanOrEqual(2000);
    expect(summary.mesh.triangles[0]).toBeGreaterThan(500);
    expect(summary.mesh.triangles[1]).toBeLessThanOrEqual(1000);
    expect(summary.mesh.validation.errors).toBe(0);
    expect(summary.splats.validation.errors).toBe(0);
    expect(summary.splats.count).toBeGreaterThan(100);
    expect(summary.splats.count).toBeLessThanOrEqual(5000);
    expect(summary.splats.output).toBe(join(dir, 'out', 'head.splats.glb'));
    expect(summary.splats.ply).toBe(join(dir, 'out', 'head.splats.ply'));

    // Check the written files independently of the exporter's own report.
    const mesh = await validateGlb(new Uint8Array(await readFile(out)));
    expect(mesh.errors, mesh.messages.join('\n')).toBe(0);
    expect(mesh.warnings, mesh.messages.join('\n')).toBe(0);
    expect(existsSync(summary.splats.ply)).toBe(true);
    expect((await readdir(join(dir, 'out'))).sort()).toEqual(['head.glb', 'head.splats.glb', 'head.splats.ply']);
  });

  it('refuses a foreign or truncated checkpoint, an impossible budget or an unwritable path with one line and no file', async () => {
    const foreign = join(dir, 'foreign.h3df');
    await writeFile(foreign, 'not a field at all');
    const truncated = join(dir, 'truncated.h3df');
    await writeFile(truncated, (await readFile(field)).subarray(0, 4000));
    const blocker = join(dir, 'a-file');
    await writeFile(blocker, '');
    const out = join(dir, 'bad', 'head.glb');
    const cases: [string[], RegExp][] = [
      [[foreign, '-o', out], /not a usable head3d field: it does not start with the H3DF signature/],
      [[truncated, '-o', out], /not a usable head3d field: the file is truncated/],
      [[join(dir, 'missing.h3df'), '-o', out], /checkpoint not found/],
      [[field, '-o', out, '--triangles', '20'], /triangle budget of 20 is impossible/],
      [[field, '-o', out, '--triangles', '200', '--lods', '3'], /last LOD would have 50 triangles/],
      [[field, '-o', out, '--texture', '1000'], /texture size must be a power of two/],
      [[field, '-o', out, '--format', 'obj'], /--format must be mesh, splats or both/],
      [[field, '-o', join(blocker, 'head.glb')], /cannot write .*head\.glb/],
    ];
    for (const [args, message] of cases) {
      const result = await runCli(['export', ...args, ...FAST.slice(0, 2)]);
      expect(isOneLineUserError(result), `${args.join(' ')}: ${result.stderr}`).toBe(true);
      expect(result.stderr).toMatch(message);
    }
    expect(existsSync(join(dir, 'bad'))).toBe(false);
    expect(existsSync(join(blocker, 'head.glb'))).toBe(false);
  });
});
