import { Document, Logger } from '@gltf-transform/core';
import { EXTTextureWebP } from '@gltf-transform/extensions';
import type { MeshExport } from '../mesh/export-mesh.js';
import type { EncodedTexture } from './encode-texture.js';
import { MsftLodExtension } from './msft-lod.js';

export interface MeshDocumentOptions {
  /** Node, mesh and material name (default "head"). */
  name?: string;
  /** Material roughness (default 0.8: skin and hair read as matte). */
  roughness?: number;
  /** Generator string in `asset.generator` (default "head3d"). */
  generator?: string;
}

export const MESH_DOCUMENT_DEFAULTS: Required<MeshDocumentOptions> = { name: 'head', roughness: 0.8, generator: 'head3d' };

/**
 * Assembles a glTF document from an exported head mesh: one PBR metallic-roughness material
 * (metallic 0) with the baked base-colour texture, LOD0 as the scene's only node, and coarser
 * LODs as out-of-scene nodes named `<name>_LOD<i>` chained with `MSFT_lod`.
 */
export function createMeshDocument(result: MeshExport, texture: EncodedTexture, options: MeshDocumentOptions = {}): Document {
  const { name, roughness, generator } = { ...MESH_DOCUMENT_DEFAULTS, ...options };
  const document = new Document().setLogger(new Logger(Logger.Verbosity.WARN));
  document.getRoot().getAsset().generator = generator;
  const buffer = document.createBuffer();
  if (texture.mimeType === 'image/webp') document.createExtension(EXTTextureWebP).setRequired(true);
  const baseColor = document.createTexture(`${name}_baseColor`).setImage(texture.bytes).setMimeType(texture.mimeType);
  const material = document
    .createMaterial(name)
    .setBaseColorTexture(baseColor)
    .setMetallicFactor(0)
    .setRoughnessFactor(roughness)
    .setDoubleSided(false);
  material.getBaseColorTextureInfo()!.setMinFilter(9987).setMagFilter(9729); // LINEAR_MIPMAP_LINEAR, LINEAR

  const scene = document.createScene(name);
  document.getRoot().setDefaultScene(scene);
  const nodes = result.lods.map((lod, level) => {
    const label = level === 0 ? name : `${name}_LOD${level}`;
    const accessor = (array: Float32Array | Uint32Array, type: 'VEC3' | 'VEC2' | 'SCALAR') =>
      document.createAccessor().setBuffer(buffer).setType(type).setArray(array);
    const primitive = document
      .createPrimitive()
      .setMaterial(material)
      .setIndices(accessor(lod.indices, 'SCALAR'))
      .setAttribute('POSITION', accessor(lod.positions, 'VEC3'))
      .setAttribute('NORMAL', accessor(lod.normals, 'VEC3'))
      .setAttribute('TEXCOORD_0', accessor(lod.uvs, 'VEC2'));
    const mesh = document.createMesh(label).addPrimitive(primitive);
    return document.createNode(label).setMesh(mesh);
  });
  scene.addChild(nodes[0]);
  if (nodes.length > 1) {
    const chain = document.createExtension(MsftLodExtension).createLodChain();
    for (const node of nodes.slice(1)) chain.addLod(node);
    nodes[0].setExtension('MSFT_lod', chain);
  }
  return document;
}
