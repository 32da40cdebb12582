import type { RgbaImage } from '../../core/image.js';
import { fillHoles } from './fill-holes.js';
import { bilinearResample, fastGuidedFilter } from './guided-filter.js';

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
 * A window about a hair lock wide (17 px of a 512² crop) follows strands and ears without reaching
 * across the head; this eps keeps weak colour edges in the background from pulling the alpha. On
 * the Lee Perry-Smith renders (test/generate/matte-accuracy.test.ts) it halves the alpha error
 * along the outline against the model's mask resampled alone.
 */
export const MATTE_REFINEMENT: MatteRefinement = { radius512: 8, eps: 1e-3 };

/** Bilinear resampling of a mask to width × height (pixel centres aligned, edges clamped). */
export function upsampleMask(mask: CoarseMask, width: number, height: number): Float32Array {
  return bilinearResample(mask.values, mask.width, mask.height, width, height);
}

/**
 * The full-resolution alpha of `image` from a coarse foreground mask: holes enclosed by foreground
 * are filled (see `fillHoles`), and a guided filter fitted at the mask's resolution moves its edge
 * onto the image's own colour edges at full resolution (see `fastGuidedFilter`); then quantised to
 * bytes. A segmentation model's 256² output blurs hair and ears over several pixels of a 512²
 * crop; the filter makes the alpha follow the picture there.
 */
export function refineMatte(image: RgbaImage, mask: CoarseMask, refinement: MatteRefinement = MATTE_REFINEMENT): Uint8Array {
  const filled: CoarseMask = { ...mask, values: fillHoles(mask.values, mask.width, mask.height) };
  // The filter's window in mask pixels: radius512 pixels of a 512-pixel image.
  const radius = Math.max(1, Math.round((refinement.radius512 * Math.max(image.width, image.height) * mask.width) / (512 * image.width)));
  const filtered = fastGuidedFilter(image, filled, { radius, eps: refinement.eps });
  const alpha = new Uint8Array(filtered.length);
  for (let i = 0; i < alpha.length; i++) alpha[i] = Math.round(255 * Math.min(1, Math.max(0, filtered[i])));
  return alpha;
}
