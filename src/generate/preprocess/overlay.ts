import type { RgbaImage } from '../../core/image.js';
import type { Point2 } from './landmarks.js';

/** Draws filled squares (landmarks) onto an image in place. */
export function drawPoints(image: RgbaImage, points: Point2[], color: [number, number, number], radius = 1): void {
  for (const [x, y] of points) {
    const cx = Math.round(x), cy = Math.round(y);
    for (let dy = -radius; dy <= radius; dy++) for (let dx = -radius; dx <= radius; dx++) setPixel(image, cx + dx, cy + dy, color);
  }
}

/** Draws a closed polygon outline onto an image in place. */
export function drawPolygon(image: RgbaImage, corners: Point2[], color: [number, number, number], thickness = 1): void {
  for (let k = 0; k < corners.length; k++) {
    const [x0, y0] = corners[k];
    const [x1, y1] = corners[(k + 1) % corners.length];
    const steps = Math.max(1, Math.ceil(Math.hypot(x1 - x0, y1 - y0)));
    for (let s = 0; s <= steps; s++) {
      const x = Math.round(x0 + ((x1 - x0) * s) / steps);
      const y = Math.round(y0 + ((y1 - y0) * s) / steps);
      for (let dy = -thickness + 1; dy < thickness; dy++) for (let dx = -thickness + 1; dx < thickness; dx++) setPixel(image, x + dx, y + dy, color);
    }
  }
}

function setPixel(image: RgbaImage, x: number, y: number, [r, g, b]: [number, number, number]): void {
  if (x < 0 || y < 0 || x >= image.width || y >= image.height) return;
  const k = (y * image.width + x) * 4;
  image.data[k] = r;
  image.data[k + 1] = g;
  image.data[k + 2] = b;
  image.data[k + 3] = 255;
}
