import type { RgbaImage } from '../../core/image.js';
import type { FieldSampler } from '../field-sampler.js';
import { vertexNormals } from './normals.js';
import { forEachTexelSample } from './texel-samples.js';
import { dilateTexels, resizeBilinear } from './texture-fill.js';
import type { AtlasMesh } from './uv-atlas.js';

export interface BakeOptions {
  /** Side of the finished texture in texels (default 2048). */
  textureSize?: number;
  /**
   * Fraction of `textureSize` at which the field's colour is evaluated (default 0.5); the bake is
   * then resized bilinearly to `textureSize`. A fitted field holds no detail finer than its finest
   * hash cell (1/512 of its bounds by default, about two texels of a 2048² head atlas), so half
   * resolution loses nothing measurable and costs a quarter of the evaluations.
   */
  bakeScale?: number;
  /** Rings of texels, at the bake's resolution, grown outward from every chart (default 8). */
  dilation?: number;
  /** Points per `field.color` call (default 65 536). */
  batchSize?: number;
  /** Unit normal per atlas vertex (default: area-weighted normals, welded across UV seams). */
  normals?: Float32Array;
  /**
   * Signed distance per atlas vertex, along its normal, to the depth whose colour is baked (see
   * `surfaceDepths`; default: the mesh surface itself).
   */
  depths?: Float32Array;
  /**
   * Direction each texel is looked at (default 'normal'): 'normal' along −normal, head-on, the
   * view that shows a surface best; 'field' leaves it to the field's own default.
   */
  view?: 'normal' | 'field';
}

export const BAKE_DEFAULTS = { textureSize: 2048, bakeScale: 0.5, dilation: 8, batchSize: 65_536, view: 'normal' as 'normal' | 'field' };

/**
 * Bakes the field's colour into the atlas: every texel (at `bakeScale` of the final size) whose
 * centre lies in a triangle's UV footprint gets `field.color` at the matching point of the
 * triangle, moved along the interpolated normal by `depths` and seen along −normal (sRGB values
 * written as they come, like the training images). Charts are then dilated by `dilation` rings
 * (each new texel the mean of its filled neighbours) so bilinear filtering and mipmaps do not pull
 * the background across seams, texels beyond that get the mean colour, and the bake is resized
 * to `textureSize`. `coverage` is the fraction of texels inside charts.
 *
 * @example
 * const { image } = bakeBaseColor(atlas, field, { textureSize: 2048, depths: surfaceDepths(grid, atlas.positions, normals) });
 */
export function bakeBaseColor(mesh: AtlasMesh, field: FieldSampler, options: BakeOptions = {}): { image: RgbaImage; coverage: number } {
  const o = { ...BAKE_DEFAULTS, ...options };
  const size = o.textureSize;
  const bakeSize = Math.max(1, Math.round(size * o.bakeScale));
  const normals = options.normals ?? vertexNormals(mesh.positions, mesh.indices, mesh.sourceVertex);
  const rgb = new Float32Array(bakeSize * bakeSize * 3);
  const colours = new Float32Array(o.batchSize * 3);
  const directions = new Float32Array(o.batchSize * 3);
  const filled = forEachTexelSample(mesh, bakeSize, { normals, offsets: options.depths, batchSize: o.batchSize }, (batch) => {
    if (o.view === 'normal') {
      for (let i = 0; i < batch.count * 3; i++) directions[i] = -batch.normals[i];
      field.color(batch.points, batch.count, colours, directions);
    } else {
      field.color(batch.points, batch.count, colours);
    }
    for (let i = 0; i < batch.count; i++) rgb.set(colours.subarray(i * 3, i * 3 + 3), batch.texels[i] * 3);
  });
  let covered = 0;
  for (let i = 0; i < filled.length; i++) covered += filled[i];
  dilateTexels(rgb, filled, bakeSize, o.dilation);
  const resized = resizeBilinear(rgb, bakeSize, size);

  const image: RgbaImage = { width: size, height: size, data: new Uint8Array(size * size * 4) };
  for (let i = 0; i < size * size; i++) {
    for (let k = 0; k < 3; k++) image.data[i * 4 + k] = Math.round(Math.min(1, Math.max(0, resized[i * 3 + k])) * 255);
    image.data[i * 4 + 3] = 255;
  }
  return { image, coverage: covered / (bakeSize * bakeSize) };
}
