import { describe, expect, it } from 'vitest';
import { createImage } from '../../src/core/image.js';
import { backgroundMatte } from '../../src/generate/import/background-matte.js';

/** A dark-haired disc with a 3-pixel soft edge, flattened on white: true alpha and the flat frame. */
function softDisc(size: number) {
  const truth = new Float32Array(size * size);
  const frame = createImage(size, size);
  const hair = [60, 40, 25];
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const p = y * size + x;
      const r = Math.hypot(x + 0.5 - size / 2, y + 0.5 - size / 2);
      const alpha = Math.min(1, Math.max(0, (size * 0.3 - r) / 3));
      truth[p] = alpha;
      for (let c = 0; c < 3; c++) frame.data[p * 4 + c] = Math.round(alpha * hair[c] + (1 - alpha) * 255);
      frame.data[p * 4 + 3] = 255;
    }
  }
  return { truth, frame };
}

describe('background matte', () => {
  it('recovers soft edges of dark hair on a light backdrop (alpha error ≤ 0.03 on the edge)', () => {
    const { truth, frame } = softDisc(64);
    const { image, keyed, background } = backgroundMatte(frame);
    expect(keyed).toBe(true);
    expect(background).toEqual([255, 255, 255]);
    let error = 0, count = 0;
    for (let p = 0; p < truth.length; p++) {
      if (truth[p] <= 0 || truth[p] >= 1) continue;
      error += Math.abs(image.data[p * 4 + 3] / 255 - truth[p]);
      count++;
    }
    expect(count).toBeGreaterThan(50);
    expect(error / count).toBeLessThanOrEqual(0.03);
    // Solid inside, empty outside.
    expect(image.data[(32 * 64 + 32) * 4 + 3]).toBe(255);
    expect(image.data[3]).toBe(0);
  });
});
