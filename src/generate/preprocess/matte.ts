import type { RgbaImage } from '../../core/image.js';
import { fillHoles } from './fill-holes.js';
import { guidedFilter } from './guided-filter.js';

/** A segmentation model's foreground probability, one float in [0, 1] per pixel of a width × height grid. */
export interface CoarseMask {
  width: number;
  height: number;
  values: Float32Array;
}

export interface MatteRefinement {
  /** Guided-filter window radius at a 512-pixel image; scaled with the image's longer side. */
  radius512: number;
  /** Guided-filter regulariser (colours in [0, 1]). */
  eps: number;
}

/**
 * Found on the Lee Perry-Smith renders and the portraits (test/generate/matte.test.ts): a radius
 * about a hair lock wide follows strands and ears without reaching across the head, and this eps
 * keeps weak colour edges in the background from pulling the alpha.
 */
export const MATTE_REFINEMENT: MatteRefinement = { radius512: 8, eps: 1e-3 };

/** Bilinear resampling of a mask to width × height (pixel centres aligned, edges clamped). */
export function upsampleMask(mask: CoarseMask, width: number, height: number): Float32Array {
  const out = new Float32Array(width * height);
  const { width: w, height: h, values } = mask;
  const sx = w / width, sy = h / height;
  for (let y = 0; y < height; y++) {
    const fy = Math.min(h - 1, Math.max(0, (y + 0.5) * sy - 0.5));
    const y0 = Math.floor(fy), y1 = Math.min(h - 1, y0 + 1), ty = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.min(w - 1, Math.max(0, (x + 0.5) * sx - 0.5));
      const x0 = Math.floor(fx), x1 = Math.min(w - 1, x0 + 1), tx = fx - x0;
      const top = values[y0 * w + x0] * (1 - tx) + values[y0 * w + x1] * tx;
      const bottom = values[y1 * w + x0] * (1 - tx) + values[y1 * w + x1] * tx;
      out[y * width + x] = top * (1 - ty) + bottom * ty;
    }
  }
  return out;
}

/**
 * The full-resolution alpha of `image` from a coarse foreground mask: holes enclosed by foreground
 * are filled (see `fillHoles`), the mask is resampled to the image and its edge moved onto the
 * image's own colour edges by a guided filter, then quantised to bytes. A segmentation model's 256²
 * output blurs hair and ears over several pixels of a 512² crop; the filter makes the alpha follow
 * the picture there.
 */
export function refineMatte(image: RgbaImage, mask: CoarseMask, refinement: MatteRefinement = MATTE_REFINEMENT): Uint8Array {
  const filled: CoarseMask = { ...mask, values: fillHoles(mask.values, mask.width, mask.height) };
  const upsampled = upsampleMask(filled, image.width, image.height);
  const radius = Math.max(1, Math.round((refinement.radius512 * Math.max(image.width, image.height)) / 512));
  const filtered = guidedFilter(image, upsampled, { radius, eps: refinement.eps });
  const alpha = new Uint8Array(filtered.length);
  for (let i = 0; i < alpha.length; i++) alpha[i] = Math.round(255 * Math.min(1, Math.max(0, filtered[i])));
  return alpha;
}
