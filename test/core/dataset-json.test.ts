import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { panoheadOrbit, orbitPose, normalisedIntrinsics } from '../../src/core/camera.js';
import { cameraFromLabel, labelFromCamera, readDatasetJson, writeDatasetJson } from '../../src/core/dataset-json.js';
import { Head3dError } from '../../src/core/errors.js';

describe('PanoHead dataset.json', () => {
  it('round-trips labels to 6 decimals', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'h3d-ds-'));
    const cameras = [
      ...panoheadOrbit({ frames: 4, size: 512 }),
      { intrinsics: normalisedIntrinsics(4.2647, 563, 563), cam2world: orbitPose(0.123456789, -0.2) },
    ];
    const labels = cameras.map((c, i) => labelFromCamera(`img${i}.png`, c));
    const path = join(dir, 'dataset.json');
    await writeDatasetJson(path, labels);
    const back = await readDatasetJson(path);
    expect(back.map((l) => l.name)).toEqual(labels.map((l) => l.name));
    back.forEach((label, i) => {
      [...label.cam2world, ...label.normalisedK].forEach((v, k) => {
        const original = [...labels[i].cam2world, ...labels[i].normalisedK][k];
        expect(Math.abs(v - original)).toBeLessThanOrEqual(5e-7);
      });
    });
    const camera = cameraFromLabel(back[0], 512, 512);
    expect(camera.intrinsics.fx).toBeCloseTo(4.2647 * 512, 6);
    expect(camera.intrinsics.cx).toBe(256);
  });

  it('reads labels whose numbers are strings, as PanoHead writes them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'h3d-ds-'));
    const numbers = [1, 0, 0, 0.092, 0, -1, 0, 0.299, 0, 0, -1, 2.682, 0, 0, 0, 1, 4.2647, 0, 0.5, 0, 4.2647, 0.5, 0, 0, 1];
    const path = join(dir, 'dataset.json');
    await writeFile(path, JSON.stringify({ labels: [['00000.png', numbers.map((n) => n.toFixed(6))]] }));
    const [label] = await readDatasetJson(path);
    expect(label.cam2world[11]).toBeCloseTo(2.682, 9);
    expect(label.normalisedK[0]).toBeCloseTo(4.2647, 9);
  });

  it('names the bad field', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'h3d-ds-'));
    const path = join(dir, 'dataset.json');
    await writeFile(path, JSON.stringify({ labels: [['a.png', [1, 2, 3]]] }));
    await expect(readDatasetJson(path)).rejects.toThrow(/labels\[0\]\[1\] must hold 25 numbers/);
    await writeFile(path, '{"labels": [');
    await expect(readDatasetJson(path)).rejects.toBeInstanceOf(Head3dError);
  });
});
