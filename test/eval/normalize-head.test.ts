import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTexturedMesh } from '../../src/eval/load-mesh.js';
import { boundingBox, transformMesh } from '../../src/eval/mesh.js';
import { PANOHEAD_HEAD_HEIGHT, normalizeHead } from '../../src/eval/normalize-head.js';

const data = (p: string) => resolve(__dirname, '../../../shared/data', p);

describe('normalizeHead', () => {
  it('puts the Lee Perry-Smith head at the origin, crown-to-neck 0.55, shoulders below', async () => {
    const mesh = await loadTexturedMesh(data('leeperrysmith/LeePerrySmith.glb'), { allowUntextured: true });
    const placed = normalizeHead(mesh);
    // The scan's neck narrows between y = -0.2 and -1.0 (its own units; the crown is at 3.97).
    expect(placed.neckHeight).not.toBeNull();
    expect(placed.neckHeight!).toBeGreaterThan(-1.1);
    expect(placed.neckHeight!).toBeLessThan(-0.1);
    const { min, max } = boundingBox(transformMesh(mesh, placed.matrix));
    expect(max[1]).toBeCloseTo(PANOHEAD_HEAD_HEIGHT / 2, 6); // crown
    expect(min[1]).toBeLessThan(-PANOHEAD_HEAD_HEIGHT / 2); // neck and shoulders hang below
    // The head fits PanoHead's rendering box (±0.5) except for the shoulders.
    expect(max[2]).toBeLessThan(0.5);
    expect(max[0]).toBeLessThan(0.6);
  });

  it('gives the same placement for a mesh stored Z-up and facing -Y', async () => {
    const mesh = await loadTexturedMesh(data('leeperrysmith/LeePerrySmith.glb'), { allowUntextured: true });
    // Rotate +90° about X: +Y → +Z (up), +Z → −Y (front).
    const zUp = transformMesh(mesh, [1, 0, 0, 0, 0, 0, -1, 0, 0, 1, 0, 0, 0, 0, 0, 1]);
    const a = boundingBox(transformMesh(mesh, normalizeHead(mesh).matrix));
    const b = boundingBox(transformMesh(zUp, normalizeHead(zUp, { up: '+z', front: '-y' }).matrix));
    for (let k = 0; k < 3; k++) {
      expect(b.min[k]).toBeCloseTo(a.min[k], 5);
      expect(b.max[k]).toBeCloseTo(a.max[k], 5);
    }
  });

  it('finds the neck of a bust scan from another source (Demosthenes)', async () => {
    const mesh = await loadTexturedMesh(data('demosthenes/demosthenes-low-res.obj'), { allowUntextured: true });
    const placed = normalizeHead(mesh);
    // Its neck is the narrow band around y = 0.9–1.1 (crown at 2.2, shoulders from 0.8 down).
    expect(placed.neckHeight!).toBeGreaterThan(0.8);
    expect(placed.neckHeight!).toBeLessThan(1.2);
  });
});
