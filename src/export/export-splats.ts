import { writeFileAtomic } from '../core/atomic.js';
import type { FieldSampler } from './field-sampler.js';
import { type WriteGlbResult, writeGlb } from './gltf/write-glb.js';
import { INVALID_ATTRIBUTE_CODE } from './gltf/validate.js';
import { type SplatExtractOptions, extractSplats } from './splats/extract-splats.js';
import { KHR_GAUSSIAN_SPLATTING } from './splats/khr-gaussian-splatting.js';
import { encodePly } from './splats/ply.js';
import type { SplatCloud } from './splats/splat-cloud.js';
import { type SplatDocumentOptions, createSplatDocument } from './splats/splat-document.js';

export interface SplatExportOptions extends SplatExtractOptions, SplatDocumentOptions {
  /** Also write the Inria-layout .ply here. */
  plyPath?: string;
}

export interface SplatExportResult extends WriteGlbResult {
  cloud: SplatCloud;
  plyBytes?: number;
  seconds: number;
}

/**
 * Exports a field as Gaussian splats: a .glb with `KHR_gaussian_splatting` (validated; the
 * validator's unknown-attribute error for `KHR_gaussian_splatting:*` attributes is the only one
 * tolerated) and optionally the .ply. Both are written atomically.
 *
 * @example
 * await exportSplatsGlb(field, 'head-splats.glb', { plyPath: 'head-splats.ply' });
 */
export async function exportSplatsGlb(field: FieldSampler, path: string, options: SplatExportOptions = {}): Promise<SplatExportResult> {
  const start = performance.now();
  const cloud = extractSplats(field, options);
  const written = await writeSplatGlb(cloud, path, options);
  let plyBytes: number | undefined;
  if (options.plyPath) {
    const ply = encodePly(cloud);
    await writeFileAtomic(options.plyPath, ply);
    plyBytes = ply.byteLength;
  }
  return { ...written, cloud, plyBytes, seconds: (performance.now() - start) / 1000 };
}

/** Writes a splat cloud as a validated KHR_gaussian_splatting .glb. */
export async function writeSplatGlb(cloud: SplatCloud, path: string, options: SplatDocumentOptions = {}): Promise<WriteGlbResult> {
  return writeGlb(createSplatDocument(cloud, options), path, {
    ignoredErrors: [INVALID_ATTRIBUTE_CODE],
    ignoredAttributePrefix: `${KHR_GAUSSIAN_SPLATTING}:`,
  });
}
