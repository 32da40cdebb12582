import type { Document, Extension } from '@gltf-transform/core';
import { writeFileAtomic } from '../../core/atomic.js';
import { gltfIO } from '../../core/gltf-io.js';
import { type ValidateOptions, type ValidationSummary, validateGlb } from './validate.js';

export interface WriteGlbResult {
  bytes: number;
  validation: ValidationSummary;
}

/**
 * Encodes a document as .glb, checks it with glTF-Validator, and only then writes it atomically
 * (temporary name, then rename): an invalid asset is an exporter bug and throws before anything
 * reaches `path`; an unwritable path is a Head3dError and leaves no file behind.
 */
export async function writeGlb(document: Document, path: string, options: ValidateOptions = {}): Promise<WriteGlbResult> {
  const io = await gltfIO();
  // glTF-Transform writes only registered extensions; register the document's own (MSFT_lod,
  // KHR_gaussian_splatting) next to the standard ones.
  io.registerExtensions(document.getRoot().listExtensionsUsed().map((extension) => extension.constructor as typeof Extension));
  const glb = await io.writeBinary(document);
  const validation = await validateGlb(glb, options);
  if (validation.errors > 0) {
    throw new Error(`writeGlb: the exported glTF is invalid (${validation.errors} errors):\n  ${validation.messages.slice(0, 20).join('\n  ')}`);
  }
  await writeFileAtomic(path, glb);
  return { bytes: glb.byteLength, validation };
}
