import type { RgbaImage } from '../../core/image.js';
import type { CropLandmark } from './head-frame.js';

/** sRGB colours in [0, 1] that stand in for what the photo does not show. */
export interface Palette {
  skin: [number, number, number];
  hair: [number, number, number];
  clothes: [number, number, number];
}

/** MediaPipe face-mesh points in the middle of the cheeks. */
const CHEEKS = [50, 280, 205, 425, 187, 411];
const FOREHEAD_TOP = 10;
const CHIN = 152;

/**
 * The portrait's own colours: skin as the median of the cheeks, hair as the median of the matte
 * above the face (between the forehead and the matte's top), clothes as the median of the matte
 * in the crop's bottom rows. A region the photo does not show falls back to a neighbour's colour
 * or a neutral default.
 */
export function samplePalette(crop: RgbaImage, landmarks: CropLandmark[]): Palette {
  const faceHeight = Math.abs(landmarks[CHIN][1] - landmarks[FOREHEAD_TOP][1]);
  const radius = Math.max(2, faceHeight * 0.05);
  const skinPixels: number[] = [];
  for (const index of CHEEKS) collectDisc(crop, landmarks[index][0], landmarks[index][1], radius, skinPixels);
  const skin = median(skinPixels) ?? [0.78, 0.6, 0.5];

  const hairPixels: number[] = [];
  const top = landmarks[FOREHEAD_TOP];
  const xs = landmarks.map((p) => p[0]);
  const minX = Math.min(...xs), maxX = Math.max(...xs);
  const bottom = Math.round(top[1] - faceHeight * 0.12);
  for (let y = 0; y <= bottom && y < crop.height; y++) {
    for (let x = Math.max(0, Math.round(minX)); x <= Math.min(crop.width - 1, Math.round(maxX)); x++) {
      const o = (y * crop.width + x) * 4;
      if (crop.data[o + 3] >= 240) hairPixels.push(o);
    }
  }
  const hair = hairPixels.length >= 50 ? medianOf(crop, hairPixels) : darken(skin, 0.35);

  const clothesPixels: number[] = [];
  for (let y = Math.floor(crop.height * 0.94); y < crop.height; y++) {
    for (let x = 0; x < crop.width; x++) {
      const o = (y * crop.width + x) * 4;
      if (crop.data[o + 3] >= 240) clothesPixels.push(o);
    }
  }
  const clothes = clothesPixels.length >= 50 ? medianOf(crop, clothesPixels) : skin;
  return { skin, hair, clothes };

  function collectDisc(image: RgbaImage, cx: number, cy: number, r: number, into: number[]): void {
    for (let y = Math.floor(cy - r); y <= Math.ceil(cy + r); y++) {
      for (let x = Math.floor(cx - r); x <= Math.ceil(cx + r); x++) {
        if (x < 0 || y < 0 || x >= image.width || y >= image.height || (x - cx) ** 2 + (y - cy) ** 2 > r * r) continue;
        const o = (y * image.width + x) * 4;
        if (image.data[o + 3] >= 240) into.push(o);
      }
    }
  }
  function median(offsets: number[]): [number, number, number] | undefined {
    return offsets.length >= 10 ? medianOf(crop, offsets) : undefined;
  }
}

function medianOf(image: RgbaImage, offsets: number[]): [number, number, number] {
  const channel = (c: number) => {
    const values = offsets.map((o) => image.data[o + c]).sort((a, b) => a - b);
    return values[values.length >> 1] / 255;
  };
  return [channel(0), channel(1), channel(2)];
}

function darken(c: [number, number, number], factor: number): [number, number, number] {
  return [c[0] * factor, c[1] * factor, c[2] * factor];
}
