import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { panoheadOrbit } from '../../src/core/camera.js';
import { readImage } from '../../src/core/image.js';
import { readTransformsJson } from '../../src/core/transforms-json.js';
import { SHARED_DATA, isOneLineUserError, runCli } from '../helpers/cli.js';

const glb = join(SHARED_DATA, 'leeperrysmith/LeePerrySmith.glb');
const texture = join(SHARED_DATA, 'leeperrysmith/Map-COL.jpg');

describe('head3d render-views', () => {
  it('renders the orbit and held-out views of the Lee Perry-Smith scan', async () => {
    const out = await mkdtemp(join(tmpdir(), 'h3d-rv-'));
    const result = await runCli(['--json', 'render-views', glb, '--texture', texture, '--flip-v', '-o', out,
      '--size', '48', '--frames', '8', '--elevations', '20', '--holdout', '2', '--supersample', '2']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary).toMatchObject({ views: 16, holdoutViews: 2, triangles: 17684, size: 48 });

    const set = await readTransformsJson(join(out, 'transforms.json'));
    expect(set.frames).toHaveLength(16);
    const orbit = panoheadOrbit({ frames: 8, size: 48 });
    set.frames.slice(0, 8).forEach((frame, k) => frame.camera.cam2world.forEach((v, i) => expect(v).toBeCloseTo(orbit[k].cam2world[i], 9)));
    const holdout = await readTransformsJson(join(out, 'holdout/transforms.json'));
    expect(holdout.frames.map((f) => f.filePath)).toEqual(['holdout_000.png', 'holdout_001.png']);

    // Frame 0 sees the face: an opaque head in the middle, transparent corners.
    const front = await readImage(join(out, 'frame_000.png'));
    expect([front.width, front.height]).toEqual([48, 48]);
    expect(front.data[(24 * 48 + 24) * 4 + 3]).toBe(255);
    expect(front.data[3]).toBe(0);
    const coverage = front.data.filter((_, i) => i % 4 === 3 && front.data[i] > 0).length / (48 * 48);
    expect(coverage).toBeGreaterThan(0.3);
    expect(coverage).toBeLessThan(0.9);
    expect((await readdir(out)).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('refuses bad input with a one-line error and writes no view set', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'h3d-rv-bad-'));
    const truncated = join(dir, 'truncated.glb');
    await writeFile(truncated, (await readFile(glb)).subarray(0, 5000));
    const notImage = join(dir, 'texture.png');
    await writeFile(notImage, 'this is text');
    const cases: [string[], RegExp][] = [
      [[join(dir, 'missing.glb')], /mesh not found/],
      [[glb], /has no base-colour texture/],
      [[join(SHARED_DATA, 'demosthenes/demosthenes-low-res.obj')], /has no base-colour texture/],
      [[glb, '--texture', notImage], /not an image/],
      [[glb, '--texture', join(dir, 'nope.jpg')], /texture not found/],
      [[truncated, '--texture', texture], /cannot read glTF/],
      [[join(dir, 'mesh.stl')], /mesh not found|unsupported mesh format/],
      [[glb, '--texture', texture, '--up', 'sideways'], /--up must be one of/],
    ];
    for (const [args, message] of cases) {
      const out = join(dir, 'out');
      const result = await runCli(['render-views', ...args, '-o', out, '--size', '16', '--frames', '2']);
      expect(isOneLineUserError(result), `${args.join(' ')}: ${result.stderr}`).toBe(true);
      expect(result.stderr).toMatch(message);
      expect(existsSync(join(out, 'transforms.json'))).toBe(false);
    }
    const usage = await runCli(['render-views', glb, '-o', join(dir, 'out'), '--size', 'big']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/expected a positive whole number/);
  });
});
