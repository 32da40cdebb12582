import { describe, expect, it } from 'vitest';
import { type Camera, orbitPose } from '../../src/core/camera.js';
import type { RgbaImage } from '../../src/core/image.js';
import { linearToSrgb, srgbToLinear } from '../../src/eval/color.js';
import type { MeshPart, TexturedMesh } from '../../src/eval/mesh.js';
import { rasterize } from '../../src/eval/rasterizer.js';

const SIZE = 64;
/** A camera at (0, 0, 2.7) looking down −Z, with a wide 53° field of view so perspective is strong. */
const camera: Camera = { intrinsics: { fx: SIZE, fy: SIZE, cx: SIZE / 2, cy: SIZE / 2, width: SIZE, height: SIZE }, cam2world: orbitPose(0, 0) };

function solid(r: number, g: number, b: number): RgbaImage {
  return { width: 1, height: 1, data: new Uint8Array([r, g, b, 255]) };
}

function quad(corners: number[][], texture: RgbaImage): MeshPart {
  return {
    positions: new Float32Array(corners.flat()),
    uvs: new Float32Array([0, 0, 1, 0, 1, 1, 0, 1]),
    indices: new Uint32Array([0, 1, 2, 0, 2, 3]),
    texture,
  };
}

const at = (image: RgbaImage, x: number, y: number) => Array.from(image.data.slice((y * image.width + x) * 4, (y * image.width + x) * 4 + 4));

describe('rasterize', () => {
  it('interpolates UVs perspective-correctly (checked against ray–plane intersection)', () => {
    // A quad receding from the camera: x from −1 to 1 while z goes from 1.5 to −1.5 (depth 1.2 → 4.2).
    // The texture is 32 black texels then 32 white ones along u.
    const texels = 64;
    const texture: RgbaImage = { width: texels, height: 1, data: new Uint8Array(texels * 4) };
    for (let i = 0; i < texels; i++) texture.data.set(i < texels / 2 ? [0, 0, 0, 255] : [255, 255, 255, 255], i * 4);
    const A = [-1, -0.8, 1.5], B = [1, -0.8, -1.5];
    const mesh: TexturedMesh = { parts: [quad([A, B, [B[0], 0.8, B[2]], [A[0], 0.8, A[2]]], texture)] };
    const image = rasterize(mesh, camera, { supersample: 1 });

    const row = 36;
    let checked = 0;
    for (let x = 0; x < SIZE; x++) {
      // Ray through the pixel centre: x_world / depth = t, with x = −1 + 2u and depth = 1.2 + 3u on the plane.
      const t = (x + 0.5 - SIZE / 2) / SIZE;
      const u = (1.2 * t + 1) / (2 - 3 * t);
      if (u < 0.05 || u > 0.95) continue;
      const texel = u * texels - 0.5;
      const white = Math.min(1, Math.max(0, texel - (texels / 2 - 1)));
      const expected = Math.round(255 * linearToSrgb(white));
      expect(Math.abs(at(image, x, row)[0] - expected), `pixel ${x}: u=${u.toFixed(4)}`).toBeLessThanOrEqual(2);
      checked++;
    }
    expect(checked).toBeGreaterThan(20);
    // The black/white edge lies where u = 0.5, i.e. on the optical axis, not at the screen-space midpoint.
    expect(at(image, 31, row)[0]).toBeLessThan(90);
    expect(at(image, 32, row)[0]).toBeGreaterThan(200);
  });

  it('keeps the nearest surface whatever the drawing order', () => {
    const near = quad([[-0.5, -0.5, 0.5], [0.5, -0.5, 0.5], [0.5, 0.5, 0.5], [-0.5, 0.5, 0.5]], solid(255, 0, 0));
    const far = quad([[-1, -1, -0.5], [1, -1, -0.5], [1, 1, -0.5], [-1, 1, -0.5]], solid(0, 255, 0));
    for (const parts of [[near, far], [far, near]]) {
      const image = rasterize({ parts }, camera, { supersample: 2 });
      expect(at(image, 32, 32)).toEqual([255, 0, 0, 255]);
      expect(at(image, 32, 14)).toEqual([0, 255, 0, 255]);
    }
  });

  it('turns partial pixel coverage into alpha and leaves no cracks on shared edges', () => {
    // At depth 2.7 a pixel spans 2.7/64 world units. The quad's left edge sits on pixel 10's centre line.
    const pixel = 2.7 / SIZE;
    const left = (10.5 - 32) * pixel, right = (50 - 32) * pixel, top = (8 - 32) * pixel, bottom = (56 - 32) * pixel;
    const part = quad([[left, -bottom, 0], [right, -bottom, 0], [right, -top, 0], [left, -top, 0]], solid(255, 255, 255));
    const image = rasterize({ parts: [part] }, camera, { supersample: 4 });
    expect(at(image, 10, 30)[3]).toBe(128); // two of four sample columns covered
    expect(at(image, 9, 30)[3]).toBe(0);
    let interior = 0;
    for (let y = 8; y < 56; y++) {
      for (let x = 11; x < 50; x++) {
        expect(at(image, x, y)).toEqual([255, 255, 255, 255]);
        interior++;
      }
    }
    expect(interior).toBe(48 * 39);
  });

  it('draws both faces and averages supersamples in linear light', () => {
    // A checkerboard of black and white texels, minified far below one texel per sample, resolves to 50 % linear grey.
    const n = 256;
    const texture: RgbaImage = { width: n, height: n, data: new Uint8Array(n * n * 4) };
    for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) texture.data.set((x + y) % 2 ? [255, 255, 255, 255] : [0, 0, 0, 255], (y * n + x) * 4);
    // Wound clockwise as seen from the camera: the back face.
    const part = quad([[-1, 1, 0], [1, 1, 0], [1, -1, 0], [-1, -1, 0]], texture);
    const image = rasterize({ parts: [part] }, camera, { supersample: 4 });
    const grey = at(image, 32, 32)[0];
    expect(Math.abs(srgbToLinear(grey / 255) - 0.5)).toBeLessThan(0.12);
    expect(at(image, 32, 32)[3]).toBe(255);
  });
});
