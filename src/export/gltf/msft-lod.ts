import { Extension, ExtensionProperty, type IProperty, type Node, type Nullable, PropertyType, RefList, type WriterContext } from '@gltf-transform/core';

/** Name of the Microsoft LOD extension (glTF vendor extension, read by Babylon.js and others). */
export const MSFT_LOD = 'MSFT_lod';

interface ILodChain extends IProperty {
  lods: RefList<Node>;
}

/**
 * The coarser levels of detail of a node, finest first. The LOD nodes are kept out of the scene;
 * viewers without MSFT_lod show the node itself (LOD0).
 */
export class LodChain extends ExtensionProperty<ILodChain> {
  static override EXTENSION_NAME = MSFT_LOD;
  declare extensionName: typeof MSFT_LOD;
  declare propertyType: 'LodChain';
  declare parentTypes: [PropertyType.NODE];

  protected override init(): void {
    this.extensionName = MSFT_LOD;
    this.propertyType = 'LodChain';
    this.parentTypes = [PropertyType.NODE];
  }

  protected override getDefaults(): Nullable<ILodChain> {
    return Object.assign(super.getDefaults(), { lods: new RefList<Node>() });
  }

  addLod(node: Node): this {
    return this.addRef('lods', node);
  }

  listLods(): Node[] {
    return this.listRefs('lods');
  }
}

/**
 * Writes `MSFT_lod` (`{ids: [...]}` on the LOD0 node, plus `extras.MSFT_screencoverage`). Write
 * only: reading a file back gives the LOD nodes as plain root nodes.
 */
export class MsftLodExtension extends Extension {
  static override EXTENSION_NAME = MSFT_LOD;
  override readonly extensionName = MSFT_LOD;

  createLodChain(): LodChain {
    return new LodChain(this.document.getGraph());
  }

  override read(): this {
    return this;
  }

  override write(context: WriterContext): this {
    const json = context.jsonDoc.json;
    for (const node of this.document.getRoot().listNodes()) {
      const chain = node.getExtension<LodChain>(MSFT_LOD);
      if (!chain) continue;
      const definition = json.nodes![context.nodeIndexMap.get(node)!];
      const lods = chain.listLods();
      definition.extensions = { ...definition.extensions, [MSFT_LOD]: { ids: lods.map((lod) => context.nodeIndexMap.get(lod)!) } };
      // Screen coverage at which each level (LOD0 included) hands over to the next.
      const coverage = [0.5, 0.25, 0.1, 0.05, 0.02].slice(0, lods.length + 1);
      definition.extras = { ...definition.extras, MSFT_screencoverage: coverage };
    }
    return this;
  }
}
