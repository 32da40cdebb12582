import type { Document } from '@gltf-transform/core';
import { draco, meshopt, weld } from '@gltf-transform/functions';
import { MeshoptEncoder } from 'meshoptimizer';

export type Compression = 'meshopt' | 'draco' | 'none';

export const COMPRESSIONS: readonly Compression[] = ['meshopt', 'draco', 'none'];

/**
 * Compresses the geometry of a document in place: `meshopt` (EXT_meshopt_compression after
 * reordering and quantization; decodes fastest, the default), `draco` (KHR_draco_mesh_compression,
 * edgebreaker; smallest) or `none`. The encoders must be registered on the NodeIO that writes
 * the document (core/gltf-io does).
 */
export async function compressDocument(document: Document, method: Compression): Promise<void> {
  switch (method) {
    case 'none':
      return;
    case 'meshopt':
      await MeshoptEncoder.ready;
      await document.transform(meshopt({ encoder: MeshoptEncoder, level: 'medium' }));
      return;
    case 'draco':
      await document.transform(weld(), draco({ method: 'edgebreaker' }));
      return;
  }
}
