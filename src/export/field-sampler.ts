/**
 * What the exporters need from a fitted radiance field: density and view-independent colour at
 * world points (PanoHead world: head centre at the origin, +Y up, face toward +Z, about 0.55 units
 * crown to neck). The fitted hash-grid field implements it; tests implement it with analytic shapes.
 */
export interface FieldSampler {
  boundsMin: [number, number, number];
  boundsMax: [number, number, number];
  /** σ (per world unit) at `count` points `xyz[3i..3i+2]`, written to `out[i]`. Points outside the bounds give 0. */
  density(xyz: Float32Array, count: number, out: Float32Array): void;
  /**
   * Display colour in [0,1] (sRGB-encoded, like the training images) at the points, `out[3i..3i+2]`.
   * `directions` (optional, unit xyz per point) are the viewing rays' directions, from the eye
   * toward the point; without them a field picks its own (the fitted field looks toward the head
   * centre). Fields without view-dependent colour ignore them.
   */
  color(xyz: Float32Array, count: number, out: Float32Array, directions?: Float32Array): void;
  /**
   * Optional occupancy test for empty-space skipping: true where the field may hold density.
   * Exporters must give identical results with or without it, only faster.
   */
  occupied?(x: number, y: number, z: number): boolean;
  /**
   * Optional distance between the renderer's samples along a ray (world units; a checkpoint's
   * `march.stepSize`). The iso-level calibration marches with it so that its opacity matches the
   * field's own renders.
   */
  marchStep?: number;
}
