import type { RgbaImage } from '../../src/core/image.js';
import type { TexturedMesh } from '../../src/eval/mesh.js';

/**
 * A UV sphere (radius `radius`, centre `centre`) with a procedural texture: a hue gradient around
 * the equator, latitude bands and a dark seam-free stripe pattern. Deterministic, no files.
 */
export function texturedSphere(radius = 0.3, centre: [number, number, number] = [0, 0, 0], segments = 48, textureSize = 128): TexturedMesh {
  const rings = segments / 2;
  const positions: number[] = [];
  const uvs: number[] = [];
  const indices: number[] = [];
  for (let r = 0; r <= rings; r++) {
    const v = r / rings;
    const polar = v * Math.PI;
    for (let s = 0; s <= segments; s++) {
      const u = s / segments;
      const azimuth = u * 2 * Math.PI;
      positions.push(
        centre[0] + radius * Math.sin(polar) * Math.sin(azimuth),
        centre[1] + radius * Math.cos(polar),
        centre[2] + radius * Math.sin(polar) * Math.cos(azimuth),
      );
      uvs.push(u, v);
    }
  }
  const row = segments + 1;
  for (let r = 0; r < rings; r++) {
    for (let s = 0; s < segments; s++) {
      const a = r * row + s, b = a + 1, c = a + row, d = c + 1;
      indices.push(a, c, b, b, c, d);
    }
  }
  const texture: RgbaImage = { width: textureSize, height: textureSize, data: new Uint8Array(textureSize * textureSize * 4) };
  for (let y = 0; y < textureSize; y++) {
    for (let x = 0; x < textureSize; x++) {
      const hue = (x / textureSize) * 2 * Math.PI;
      const band = Math.floor((y / textureSize) * 6) % 2;
      const shade = band ? 1 : 0.55;
      const o = (y * textureSize + x) * 4;
      texture.data[o] = Math.round(255 * shade * (0.5 + 0.5 * Math.cos(hue)));
      texture.data[o + 1] = Math.round(255 * shade * (0.5 + 0.5 * Math.cos(hue - 2.1)));
      texture.data[o + 2] = Math.round(255 * shade * (0.5 + 0.5 * Math.cos(hue + 2.1)));
      texture.data[o + 3] = 255;
    }
  }
  return { parts: [{ positions: new Float32Array(positions), uvs: new Float32Array(uvs), indices: new Uint32Array(indices), texture }] };
}
