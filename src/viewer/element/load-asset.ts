import { Box3, type BufferGeometry, type LoadingManager, type Object3D, Sphere, Vector3 } from 'three/webgpu';
import { type GLTF, GLTFLoader } from 'three/addons/loaders/GLTFLoader.js';
import { DRACOLoader } from 'three/addons/loaders/DRACOLoader.js';
import { GLTFGaussianSplatLoaderExtension } from 'three/addons/loaders/GLTFGaussianSplatLoaderExtension.js';
import { MeshoptDecoder } from 'three/addons/libs/meshopt_decoder.module.js';
import { MsftLodPlugin } from './msft-lod.js';

/** What a loaded glb turned out to be, and how big it is. */
export interface LoadedAsset {
  root: Object3D;
  kind: 'mesh' | 'splats';
  /** Triangles of the finest level (meshes), 0 for splats. */
  triangles: number;
  /** Gaussians (splat glbs), 0 for meshes. */
  splats: number;
  /** Levels of detail (1 without MSFT_lod). */
  lods: number;
  /** Bounding sphere of the finest level, metres. */
  bounds: Sphere;
}

export interface LoadAssetOptions {
  /** Called with bytes loaded and total (0 when the server sends no length). */
  onProgress?: (loaded: number, total: number) => void;
  /** Folder holding draco_wasm_wrapper.js and draco_decoder.wasm (default: three/addons/libs/draco/gltf/ as the import map resolves it). */
  dracoDecoderPath?: string;
  manager?: LoadingManager;
}

let draco: DRACOLoader | undefined;

/**
 * The glTF build of three's Draco decoder, found through the page's import map. (DRACOLoader's own
 * default is the larger general-purpose build in libs/draco/.)
 */
export function defaultDracoPath(): string {
  try {
    return new URL('./', import.meta.resolve('three/addons/libs/draco/gltf/draco_wasm_wrapper.js')).href;
  } catch {
    return '/three/addons/libs/draco/gltf/';
  }
}

/** A GLTFLoader with everything our exports use: meshopt, Draco, KHR_gaussian_splatting, MSFT_lod. */
export function createLoader(options: LoadAssetOptions = {}): GLTFLoader {
  const loader = new GLTFLoader(options.manager);
  draco ??= new DRACOLoader().setDecoderPath(options.dracoDecoderPath ?? defaultDracoPath());
  loader.setDRACOLoader(draco);
  loader.setMeshoptDecoder(MeshoptDecoder);
  loader.register((parser) => new GLTFGaussianSplatLoaderExtension(parser) as never);
  loader.register((parser) => new MsftLodPlugin(parser));
  return loader;
}

/**
 * Loads a glb (or glTF) and describes it: a head mesh (textured, possibly with LODs) or a splat cloud.
 * Rejects with the loader's error (network, parse, missing decoder).
 */
export async function loadAsset(url: string, options: LoadAssetOptions = {}): Promise<LoadedAsset> {
  const loader = createLoader(options);
  const gltf: GLTF = await loader.loadAsync(url, (event: ProgressEvent) => options.onProgress?.(event.loaded, event.lengthComputable ? event.total : 0));
  const root = gltf.scene;
  let triangles = 0, splats = 0, lods = 1;
  const box = new Box3();
  root.updateMatrixWorld(true);
  root.traverse((object) => {
    const o = object as Object3D & { isLOD?: boolean; levels?: unknown[] };
    if (o.isLOD && o.levels) lods = Math.max(lods, o.levels.length);
  });
  visitFinest(root, (object) => {
    const o = object as Object3D & { isMesh?: boolean; isGaussianSplat?: boolean; geometry?: BufferGeometry; splatGeometry?: BufferGeometry };
    if (o.isGaussianSplat && o.splatGeometry) {
      const source = o.splatGeometry;
      splats += source.getAttribute('position').count;
      if (!source.boundingBox) source.computeBoundingBox();
      box.union(source.boundingBox!.clone().applyMatrix4(object.matrixWorld));
    } else if (o.isMesh && o.geometry) {
      const index = o.geometry.index;
      triangles += (index ? index.count : o.geometry.getAttribute('position').count) / 3;
      box.expandByObject(object);
    }
  });
  const bounds = box.isEmpty() ? new Sphere(new Vector3(), 0.15) : box.getBoundingSphere(new Sphere());
  return { root, kind: splats > 0 ? 'splats' : 'mesh', triangles, splats, lods, bounds };
}

/** Visits the scene graph, descending only into the finest level of each LOD. */
function visitFinest(object: Object3D, visit: (object: Object3D) => void): void {
  visit(object);
  const lod = object as Object3D & { isLOD?: boolean; levels?: { object: Object3D }[] };
  const children = lod.isLOD && lod.levels?.length ? [lod.levels[0].object] : object.children;
  for (const child of children) visitFinest(child, visit);
}
