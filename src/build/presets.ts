import { Head3dError } from '../core/errors.js';
import type { HashEncodingConfig } from '../nerf/field/config.js';

export type Quality = 'test' | 'draft' | 'standard' | 'high';
export const QUALITIES: Quality[] = ['test', 'draft', 'standard', 'high'];

/** Everything a quality level decides, per stage. */
export interface QualityPreset {
  /** Side of the generated views in pixels. */
  viewSize: number;
  /** Extra proxy views on the orbit half-way between its frames, held out from the fit and scored after it. */
  holdout: number;
  /** Proxy geometry: grid cells across the head and triangle budget. */
  proxy: { resolution: number; triangles: number };
  /**
   * Fit time budget in seconds (training only) and rays per step. A step's cost grows with its
   * rays, so within a fixed budget fewer rays buy more steps; short budgets (test, draft) converge
   * further with 2048 or fewer, long ones can afford larger, less noisy batches.
   */
  fit: {
    seconds: number;
    rays: number;
    /**
     * Learning rate at the start and at the end of the fit (exponential decay between; default
     * the fit's own, 1e-2 → 1e-3). Short fits need a faster start: on the astronaut's draft views
     * (128², 2048 rays) 108 steps reach 28.3 dB held-out at 3e-2 → 3e-3 and 14.3 dB at the default,
     * whose field is still clearing its opaque start when the budget ends.
     */
    learningRate?: [number, number];
    /**
     * Hash-grid changes from the default field (12 levels up to 512 cells across the box). Levels
     * finer than the views can show only fit noise and cost time. On 128² draft views, 9 levels up
     * to 192 cells (measured on three portraits' proxy views, 75 s fits): 30–45 % more steps,
     * held-out +1.6 dB on each (astronaut 29.8 → 31.5, woman_neutral 31.4 → 33.0, stefan_beanie
     * 30.9 → 32.6), and the exported mesh's normals nearer the proxy's it was rendered from (mean
     * angle 29.2° → 22.8°, 18.8° → 17.8°, 27.7° → 27.2°).
     */
    field?: Partial<HashEncodingConfig>;
  };
  /** Mesh export: density grid resolution, LOD0 triangles, texture side, LOD ratios. */
  mesh: { resolution: number; triangles: number; textureSize: number; lods: number[] };
  /** Splat export: grid resolution and splat cap. */
  splats: { resolution: number; maxSplats: number };
}

/**
 * Presets sized for a 2-core CPU: `draft` finishes in about 2–3 minutes, `standard` in under 10,
 * `high` takes longer; `test` is a seconds-long smoke run for CI, not a usable head.
 */
export const QUALITY_PRESETS: Record<Quality, QualityPreset> = {
  test: {
    viewSize: 64, holdout: 2,
    proxy: { resolution: 64, triangles: 8_000 },
    fit: { seconds: 8, rays: 1024, learningRate: [3e-2, 3e-3] },
    mesh: { resolution: 48, triangles: 2_000, textureSize: 512, lods: [1] },
    splats: { resolution: 48, maxSplats: 20_000 },
  },
  draft: {
    viewSize: 128, holdout: 4,
    proxy: { resolution: 128, triangles: 40_000 },
    fit: { seconds: 75, rays: 2048, learningRate: [3e-2, 3e-3], field: { levels: 9, finestResolution: 192 } },
    mesh: { resolution: 128, triangles: 10_000, textureSize: 1024, lods: [1, 0.5] },
    splats: { resolution: 128, maxSplats: 100_000 },
  },
  standard: {
    viewSize: 256, holdout: 6,
    proxy: { resolution: 160, triangles: 60_000 },
    fit: { seconds: 300, rays: 4096 },
    mesh: { resolution: 256, triangles: 30_000, textureSize: 2048, lods: [1, 0.5, 0.25] },
    splats: { resolution: 192, maxSplats: 250_000 },
  },
  high: {
    viewSize: 512, holdout: 8,
    proxy: { resolution: 192, triangles: 100_000 },
    fit: { seconds: 900, rays: 8192 },
    mesh: { resolution: 320, triangles: 60_000, textureSize: 4096, lods: [1, 0.5, 0.25] },
    splats: { resolution: 256, maxSplats: 400_000 },
  },
};

export function qualityPreset(quality: string): QualityPreset {
  if (!(QUALITIES as string[]).includes(quality)) {
    throw new Head3dError(`--quality must be ${QUALITIES.join(', ')}, not "${quality}"`, { hint: 'draft is fastest; standard is the default' });
  }
  return QUALITY_PRESETS[quality as Quality];
}
