import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { type Camera, opencvToOpengl, orbitPose, panoheadOrbit } from '../../src/core/camera.js';
import { Head3dError } from '../../src/core/errors.js';
import { frameImagePath, readTransformsJson, writeTransformsJson } from '../../src/core/transforms-json.js';

const tempDir = () => mkdtemp(join(tmpdir(), 'h3d-tf-'));
const rows = (m: number[]) => [0, 1, 2, 3].map((r) => m.slice(r * 4, r * 4 + 4));

function expectSameCamera(a: Camera, b: Camera, digits = 9): void {
  for (const key of ['fx', 'fy', 'cx', 'cy', 'width', 'height'] as const) expect(a.intrinsics[key]).toBeCloseTo(b.intrinsics[key], digits);
  a.cam2world.forEach((v, i) => expect(v).toBeCloseTo(b.cam2world[i], digits));
}

describe('transforms.json', () => {
  it('round-trips what we write, with OpenGL matrices in the file', async () => {
    const dir = await tempDir();
    const cameras = panoheadOrbit({ frames: 8, size: 256 });
    const frames = cameras.map((camera, k) => ({ camera, filePath: `frame_${k}.png` }));
    const path = join(dir, 'transforms.json');
    await writeTransformsJson(path, { baseDir: dir, frames });
    const back = await readTransformsJson(path);
    expect(back.frames.map((f) => f.filePath)).toEqual(frames.map((f) => f.filePath));
    back.frames.forEach((f, k) => expectSameCamera(f.camera, cameras[k], 12));
    expect(frameImagePath(back, back.frames[3])).toBe(join(dir, 'frame_3.png'));

    const json = JSON.parse(await (await import('node:fs/promises')).readFile(path, 'utf8'));
    // Frame 0 in OpenGL axes is the identity rotation at (0, 0, 2.7).
    expect(json.frames[0].transform_matrix).toEqual(rows([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 2.7, 0, 0, 0, 1]));
    expect(json.camera_angle_x).toBeCloseTo(2 * Math.atan(0.5 / 4.2647), 12);
  });

  it('loads a hand-written nerfstudio file and an instant-ngp one to the same cameras', async () => {
    const dir = await tempDir();
    const width = 200, height = 150;
    const fx = 240, fy = 240, cx = 100, cy = 75;
    const poses = [orbitPose(0.3, 0.1), orbitPose(-1.2, -0.2)];
    const glRows = poses.map((p) => rows(opencvToOpengl(p)));
    const image = await sharp({ create: { width, height, channels: 3, background: '#808080' } }).png().toBuffer();
    for (const name of ['a.png', 'b.png']) await writeFile(join(dir, name), image);

    await writeFile(join(dir, 'ns.json'), JSON.stringify({
      camera_model: 'OPENCV', fl_x: fx, fl_y: fy, cx, cy, w: width, h: height,
      frames: [{ file_path: 'a.png', transform_matrix: glRows[0] }, { file_path: 'b.png', transform_matrix: glRows[1] }],
    }));
    // instant-ngp / Blender style: only the horizontal angle, no size (taken from the image), no extension.
    await writeFile(join(dir, 'ngp.json'), JSON.stringify({
      camera_angle_x: 2 * Math.atan(width / (2 * fx)), aabb_scale: 4,
      frames: [{ file_path: './a', transform_matrix: glRows[0] }, { file_path: './b', transform_matrix: glRows[1] }],
    }));
    const ns = await readTransformsJson(join(dir, 'ns.json'));
    const ngp = await readTransformsJson(join(dir, 'ngp.json'));
    const expected = poses.map((cam2world) => ({ intrinsics: { fx, fy, cx, cy, width, height }, cam2world }));
    ns.frames.forEach((f, i) => expectSameCamera(f.camera, expected[i]));
    ngp.frames.forEach((f, i) => expectSameCamera(f.camera, expected[i]));
    expect(frameImagePath(ngp, ngp.frames[1])).toBe(join(dir, 'b.png'));
  });

  it('takes per-frame intrinsics over the shared ones', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 't.json'), JSON.stringify({
      fl_x: 100, w: 64, h: 64,
      frames: [
        { file_path: 'a.png', transform_matrix: rows(opencvToOpengl(orbitPose(0, 0))) },
        { file_path: 'b.png', transform_matrix: rows(opencvToOpengl(orbitPose(1, 0))), fl_x: 50, fl_y: 60, w: 32, h: 32 },
      ],
    }));
    const set = await readTransformsJson(join(dir, 't.json'));
    expect(set.frames[0].camera.intrinsics).toEqual({ fx: 100, fy: 100, cx: 32, cy: 32, width: 64, height: 64 });
    expect(set.frames[1].camera.intrinsics).toEqual({ fx: 50, fy: 60, cx: 16, cy: 16, width: 32, height: 32 });
  });

  it('names the bad field in its error', async () => {
    const dir = await tempDir();
    const path = join(dir, 't.json');
    const cases: [unknown, RegExp][] = [
      [{ fl_x: 10, w: 8, h: 8 }, /frames must be an array/],
      [{ fl_x: 10, w: 8, h: 8, frames: [] }, /frames must list at least one frame/],
      [{ fl_x: 10, w: 8, h: 8, frames: [{ file_path: 'a.png' }] }, /frames\[0\]\.transform_matrix must be an array/],
      [{ fl_x: 10, w: 8, h: 8, frames: [{ file_path: 'a.png', transform_matrix: [[1, 0, 0], [0, 1, 0]] }] }, /frames\[0\]\.transform_matrix must be a 4×4 matrix/],
      [{ fl_x: 10, w: 8, h: 8, frames: [{ file_path: 'a.png', transform_matrix: rows([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 'x', 0, 0, 0, 1] as number[]) }] }, /frames\[0\]\.transform_matrix\[2\]\[3\] must be a finite number/],
      [{ fl_x: -3, w: 8, h: 8, frames: [{ file_path: 'a.png', transform_matrix: rows(orbitPose(0, 0)) }] }, /fl_x must be positive/],
      [{ w: 8, h: 8, frames: [{ file_path: 'a.png', transform_matrix: rows(orbitPose(0, 0)) }] }, /frames\[0\] has no focal length/],
      [{ fl_x: 10, w: 8, h: 8, frames: [{ transform_matrix: rows(orbitPose(0, 0)) }] }, /frames\[0\]\.file_path must be a non-empty string/],
    ];
    for (const [json, message] of cases) {
      await writeFile(path, JSON.stringify(json));
      const error = await readTransformsJson(path).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Head3dError);
      expect((error as Error).message).toMatch(message);
    }
  });

  it('refuses malformed JSON and a missing file with user errors', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'bad.json'), '{"frames": [}');
    await expect(readTransformsJson(join(dir, 'bad.json'))).rejects.toThrow(/is not valid JSON/);
    await expect(readTransformsJson(join(dir, 'missing.json'))).rejects.toThrow(/transforms.json not found/);
  });
});
