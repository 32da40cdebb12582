import { readFile } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import type { Document, Node as GltfNode, Primitive } from '@gltf-transform/core';
import { Head3dError, fileError } from '../core/errors.js';
import { gltfIO } from '../core/gltf-io.js';
import { decodeImage, readImage, type RgbaImage } from '../core/image.js';
import { type MeshPart, type TexturedMesh, flipV } from './mesh.js';
import { parseObj } from './obj.js';

export interface LoadMeshOptions {
  /** Base-colour image to use instead of (or in the absence of) the mesh's own. */
  texture?: string;
  /** Flip v (v → 1 − v) for assets authored for flipY=true loaders. */
  flipV?: boolean;
  /** Accept a mesh without texture (parts keep `texture: null`). */
  allowUntextured?: boolean;
}

/** Loads a textured triangle mesh from .glb/.gltf (glTF-Transform) or .obj (+ .mtl map_Kd). */
export async function loadTexturedMesh(path: string, options: LoadMeshOptions = {}): Promise<TexturedMesh> {
  const extension = extname(path).toLowerCase();
  if (!existsSync(path)) throw new Head3dError(`mesh not found: ${path}`, { hint: 'check the path' });
  let mesh: TexturedMesh;
  if (extension === '.glb' || extension === '.gltf') mesh = await loadGltf(path);
  else if (extension === '.obj') mesh = await loadObj(path);
  else throw new Head3dError(`unsupported mesh format "${extension || '(none)'}": ${path}`, { hint: 'use a .glb, .gltf or .obj file' });

  if (options.texture) {
    const texture = await readImage(options.texture, 'texture');
    mesh = { parts: mesh.parts.map((part) => ({ ...part, texture })) };
  }
  if (options.flipV) mesh = flipV(mesh);
  if (mesh.parts.length === 0) throw new Head3dError(`${path} holds no triangles`, { hint: 'export the mesh with triangle primitives' });
  if (!options.allowUntextured) {
    const missing = mesh.parts.find((p) => !p.texture || !p.uvs);
    if (missing) {
      const what = missing.texture ? 'texture coordinates' : 'base-colour texture';
      throw new Head3dError(`${path} has no ${what}`, {
        hint: missing.texture ? 'export the mesh with UVs' : 'pass --texture <image> with the colour map',
      });
    }
  }
  return mesh;
}

async function loadGltf(path: string): Promise<TexturedMesh> {
  const io = await gltfIO();
  let document: Document;
  try {
    document = await io.read(path);
  } catch (error) {
    const detail = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new Head3dError(`cannot read glTF ${path} (${detail})`, { hint: 'check that the file is a complete glTF 2.0 asset' });
  }
  const root = document.getRoot();
  const scene = root.getDefaultScene() ?? root.listScenes()[0];
  const parts: MeshPart[] = [];
  const images = new Map<object, Promise<RgbaImage>>();
  const visit = async (node: GltfNode): Promise<void> => {
    const mesh = node.getMesh();
    if (mesh) {
      const world = node.getWorldMatrix();
      for (const primitive of mesh.listPrimitives()) {
        const part = await primitivePart(primitive, world, images, path);
        if (part) parts.push(part);
      }
    }
    for (const child of node.listChildren()) await visit(child);
  };
  for (const node of scene ? scene.listChildren() : root.listNodes().filter((n) => !n.getParentNode?.())) {
    await visit(node);
  }
  return { parts };
}

async function primitivePart(
  primitive: Primitive,
  world: number[] | Float32Array,
  images: Map<object, Promise<RgbaImage>>,
  path: string,
): Promise<MeshPart | null> {
  if (primitive.getMode() !== 4) return null; // only TRIANGLES
  const position = primitive.getAttribute('POSITION');
  if (!position) return null;
  const count = position.getCount();
  const positions = new Float32Array(count * 3);
  const v: number[] = [0, 0, 0];
  for (let i = 0; i < count; i++) {
    position.getElement(i, v);
    // glTF matrices are column-major.
    positions[i * 3] = world[0] * v[0] + world[4] * v[1] + world[8] * v[2] + world[12];
    positions[i * 3 + 1] = world[1] * v[0] + world[5] * v[1] + world[9] * v[2] + world[13];
    positions[i * 3 + 2] = world[2] * v[0] + world[6] * v[1] + world[10] * v[2] + world[14];
  }
  const indexAccessor = primitive.getIndices();
  const indices = new Uint32Array(indexAccessor ? indexAccessor.getCount() : count);
  if (indexAccessor) for (let i = 0; i < indices.length; i++) indices[i] = indexAccessor.getScalar(i);
  else for (let i = 0; i < count; i++) indices[i] = i;

  const material = primitive.getMaterial();
  const textureInfo = material?.getBaseColorTextureInfo();
  const textureSource = material?.getBaseColorTexture();
  const uvSet = textureInfo?.getTexCoord() ?? 0;
  const uvAccessor = primitive.getAttribute(`TEXCOORD_${uvSet}`);
  let uvs: Float32Array | null = null;
  if (uvAccessor) {
    uvs = new Float32Array(count * 2);
    const uv: number[] = [0, 0];
    for (let i = 0; i < count; i++) {
      uvAccessor.getElement(i, uv);
      uvs[i * 2] = uv[0];
      uvs[i * 2 + 1] = uv[1];
    }
  }
  let texture: RgbaImage | null = null;
  const bytes = textureSource?.getImage();
  if (textureSource && bytes) {
    let pending = images.get(textureSource);
    if (!pending) {
      pending = decodeImage(bytes, `texture "${textureSource.getName() || textureSource.getURI() || 'embedded'}" in ${path}`);
      images.set(textureSource, pending);
    }
    texture = await pending;
  }
  return { positions, uvs, indices, texture };
}

async function loadObj(path: string): Promise<TexturedMesh> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw fileError(error, path, 'mesh');
  }
  const obj = parseObj(text, path);
  let texture: RgbaImage | null = null;
  if (obj.materialLibrary) {
    const mtlPath = resolve(dirname(path), obj.materialLibrary);
    if (existsSync(mtlPath)) {
      const map = /^\s*map_Kd\s+(?:-\S+\s+\S+\s+)*(.+?)\s*$/m.exec(await readFile(mtlPath, 'utf8'));
      if (map) texture = await readImage(resolve(dirname(mtlPath), map[1]), 'texture');
    }
  }
  return { parts: [{ positions: obj.positions, uvs: obj.uvs, indices: obj.indices, texture }] };
}
