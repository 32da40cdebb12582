/**
 * `head3d view` and `head3d turntable` as a user runs them (the built CLI in dist/).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportMeshGlb } from '../../src/export/export-mesh-glb.js';
import { headLikeField } from '../export/analytic-fields.js';
import { REPO_ROOT, isOneLineUserError, runCli } from '../helpers/cli.js';

let dir: string;
let glb: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'head3d-viewer-cli-'));
  glb = join(dir, 'head.glb');
  await exportMeshGlb(headLikeField(), glb, { resolution: 64, triangles: 2000, textureSize: 256, lods: [1], pivot: 'center', compress: 'draco' });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('head3d view', () => {
  it('prints a loopback URL, serves the page and the asset, and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [resolve(REPO_ROOT, 'dist/cli/main.js'), 'view', glb, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const url = await new Promise<string>((resolveUrl, reject) => {
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        const match = /http:\/\/127\.0\.0\.1:\d+\//.exec(stdout);
        if (match) resolveUrl(match[0]);
      });
      child.on('exit', (code) => reject(new Error(`view exited early (${code}): ${stderr}`)));
    });
    const page = await fetch(url);
    expect(page.status).toBe(200);
    const html = await page.text();
    const src = /src="(\/assets\/[^"]+)"/.exec(html)![1];
    expect((await fetch(new URL(src, url))).status).toBe(200);
    expect((await fetch(new URL('/package.json', url))).status).toBe(404);
    const code = await new Promise<number | null>((resolveExit) => {
      child.on('exit', resolveExit);
      child.kill('SIGTERM');
    });
    expect(code, stderr).toBe(0);
  });

  it('refuses a missing file, more than two files and a bad port with one line', async () => {
    const [missing, three, port] = await Promise.all([
      runCli(['view', join(dir, 'missing.glb')]),
      runCli(['view', glb, glb, glb]),
      runCli(['view', glb, '--port', '70000']),
    ]);
    expect(isOneLineUserError(missing), missing.stderr).toBe(true);
    expect(missing.stderr).toContain('model not found');
    expect(isOneLineUserError(three), three.stderr).toBe(true);
    expect(port.code).not.toBe(0);
  });
});

describe('head3d turntable', () => {
  it('writes a contact sheet of N views and an animated WebP', async () => {
    const sheet = join(dir, 'turntable.png');
    const result = await runCli(['--json', 'turntable', glb, '-o', sheet, '--views', '6', '--size', '96', '--columns', '3', '--webp']);
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary).toMatchObject({ width: 288, height: 192, kind: 'mesh', webp: join(dir, 'turntable.webp') });
    expect(summary.yaws).toEqual([0, 60, 120, 180, 240, 300]);
    const { data, info } = await sharp(sheet).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([288, 192]);
    // Every cell shows the head: some clearly non-white pixels in each 96² tile.
    for (let cell = 0; cell < 6; cell++) {
      const x0 = (cell % 3) * 96, y0 = Math.floor(cell / 3) * 96;
      let ink = 0;
      for (let y = y0; y < y0 + 96; y++) for (let x = x0; x < x0 + 96; x++) {
        const p = (y * info.width + x) * info.channels;
        if (data[p] + data[p + 1] + data[p + 2] < 600) ink++;
      }
      expect(ink, `cell ${cell}`).toBeGreaterThan(300);
    }
    const webp = await sharp(summary.webp, { animated: true }).metadata();
    expect(webp.pages).toBe(6);
    expect(webp.pageHeight).toBe(96);
  });

  it('lights every side as the front: the studio rig turns with the camera', async () => {
    // Front (yaw 0) and back (yaw 180) lit and unlit; lit ÷ unlit brightness of the head's pixels
    // must match front and back. With the rig fixed in the world the back got the sky fill alone.
    const brightness = async (shading: 'lit' | 'unlit') => {
      const sheet = join(dir, `sides-${shading}.png`);
      const args = ['--quiet', 'turntable', glb, '-o', sheet, '--views', '2', '--size', '96', '--columns', '2', '--pitch', '0'];
      const result = await runCli(shading === 'unlit' ? [...args, '--unlit'] : args);
      expect(result.code, result.stderr).toBe(0);
      const { data, info } = await sharp(sheet).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      return [0, 1].map((cell) => {
        let sum = 0, count = 0;
        for (let y = 0; y < 96; y++) for (let x = cell * 96; x < cell * 96 + 96; x++) {
          const p = (y * info.width + x) * 3;
          if (data[p] + data[p + 1] + data[p + 2] >= 720) continue; // background
          sum += data[p] + data[p + 1] + data[p + 2];
          count++;
        }
        return sum / count;
      });
    };
    const [lit, unlit] = [await brightness('lit'), await brightness('unlit')];
    const [front, back] = [lit[0] / unlit[0], lit[1] / unlit[1]];
    console.log(`turntable lit/unlit brightness: front ${front.toFixed(3)}, back ${back.toFixed(3)}`);
    expect(back / front).toBeGreaterThan(0.9);
    expect(back / front).toBeLessThan(1.1);
  });

  it('refuses a non-PNG sheet and an unreadable model with one line', async () => {
    const broken = join(dir, 'broken.glb');
    await writeFile(broken, 'not a glb');
    const [jpg, bad] = await Promise.all([
      runCli(['turntable', glb, '-o', join(dir, 'sheet.jpg')]),
      runCli(['--quiet', 'turntable', broken, '-o', join(dir, 'bad.png'), '--views', '2', '--size', '64']),
    ]);
    expect(isOneLineUserError(jpg), jpg.stderr).toBe(true);
    expect(isOneLineUserError(bad), bad.stderr).toBe(true);
    expect(bad.stderr).toContain('not a binary glTF');
  });
});
