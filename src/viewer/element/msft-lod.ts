import { LOD, type Object3D } from 'three/webgpu';
import type { GLTF, GLTFLoaderPlugin, GLTFParser } from 'three/addons/loaders/GLTFLoader.js';

/** Name of the Microsoft LOD extension our mesh exports write (`src/export/gltf/msft-lod.ts`). */
export const MSFT_LOD = 'MSFT_lod';

/** Screen coverage at which each level hands over to the next, when a file gives none. */
const DEFAULT_COVERAGE = [0.5, 0.25, 0.1, 0.05, 0.02];

interface LodNodeJson {
  extensions?: { [MSFT_LOD]?: { ids?: number[] } };
  extras?: { MSFT_screencoverage?: number[] };
}

/**
 * Where a `THREE.LOD` built from MSFT_lod keeps the file's screen-coverage thresholds (fraction of
 * the viewport height the model's bounding sphere covers, one per level, finest first).
 */
export interface LodCoverage {
  msftLodCoverage: number[];
}

/**
 * GLTFLoader plugin for `MSFT_lod` (three's GLTFLoader ignores the extension). For every scene node
 * carrying `MSFT_lod: {ids}` it loads the listed out-of-scene nodes and replaces the node with a
 * `THREE.LOD` whose levels are the node itself (LOD0) and the listed nodes, finest first. Switching
 * distances depend on the camera's field of view, so they are set later by `setLodDistances`.
 *
 * Semantics kept from the extension: `extras.MSFT_screencoverage[i]` is the smallest screen coverage
 * at which level i is still shown. Unlike Babylon.js, the coarsest level is never culled: a head in a
 * viewer should not vanish when zoomed out.
 *
 * @example
 * loader.register((parser) => new MsftLodPlugin(parser));
 */
export class MsftLodPlugin implements GLTFLoaderPlugin {
  readonly name = MSFT_LOD;

  constructor(private readonly parser: GLTFParser) {}

  afterRoot(result: GLTF): Promise<void> | null {
    const nodes = (this.parser.json as { nodes?: LodNodeJson[] }).nodes ?? [];
    if (!nodes.some((node) => node.extensions?.[MSFT_LOD]?.ids?.length)) return null;
    return this.replaceNodes(result, nodes);
  }

  private async replaceNodes(result: GLTF, nodes: LodNodeJson[]): Promise<void> {
    const objects: { object: Object3D; index: number }[] = [];
    result.scene.traverse((object) => {
      const index = this.parser.associations.get(object)?.nodes;
      if (index !== undefined && nodes[index]?.extensions?.[MSFT_LOD]?.ids?.length) objects.push({ object, index });
    });
    for (const { object, index } of objects) {
      const node = nodes[index];
      const ids = node.extensions![MSFT_LOD]!.ids!;
      const levels: Object3D[] = await Promise.all(ids.map((id) => this.parser.getDependency('node', id) as Promise<Object3D>));
      const lod = new LOD() as LOD & { userData: Partial<LodCoverage> };
      lod.name = object.name;
      lod.position.copy(object.position);
      lod.quaternion.copy(object.quaternion);
      lod.scale.copy(object.scale);
      const parent = object.parent;
      for (const level of [object, ...levels]) {
        level.position.set(0, 0, 0);
        level.quaternion.identity();
        level.scale.set(1, 1, 1);
      }
      [object, ...levels].forEach((level, i) => lod.addLevel(level, i));
      const given = node.extras?.MSFT_screencoverage;
      lod.userData.msftLodCoverage = Array.isArray(given) && given.length >= levels.length ? given.slice(0, levels.length + 1) : DEFAULT_COVERAGE.slice(0, levels.length + 1);
      if (parent) parent.add(lod);
      else result.scene.add(lod);
    }
  }
}

/**
 * Sets every MSFT_lod-derived LOD's switching distances for a bounding-sphere `radius` (metres) and a
 * vertical field of view (degrees): level i starts where the sphere's coverage drops below
 * coverage[i − 1], i.e. at distance r / (coverage · tan(fov/2)).
 */
export function setLodDistances(root: Object3D, radius: number, fovDeg: number): void {
  const tanHalf = Math.tan((fovDeg * Math.PI) / 360);
  root.traverse((object) => {
    const lod = object as LOD & { userData: Partial<LodCoverage> };
    const coverage = lod.userData?.msftLodCoverage;
    if (!(lod as { isLOD?: boolean }).isLOD || !coverage) return;
    lod.levels.forEach((level, i) => {
      level.distance = i === 0 ? 0 : radius / (coverage[i - 1] * tanHalf);
    });
  });
}
