import { Extension, ExtensionProperty, type IProperty, type Nullable, PropertyType, type ReaderContext, type WriterContext } from '@gltf-transform/core';

export const KHR_GAUSSIAN_SPLATTING = 'KHR_gaussian_splatting';

/** Attribute semantics the extension defines (degree-0 colour; higher SH degrees are optional). */
export const SPLAT_ATTRIBUTES = {
  rotation: `${KHR_GAUSSIAN_SPLATTING}:ROTATION`,
  scale: `${KHR_GAUSSIAN_SPLATTING}:SCALE`,
  opacity: `${KHR_GAUSSIAN_SPLATTING}:OPACITY`,
  sh0: `${KHR_GAUSSIAN_SPLATTING}:SH_DEGREE_0_COEF_0`,
} as const;

export type SplatColorSpace = 'srgb_rec709_display' | 'lin_rec709_display';

interface IGaussianSplatting extends IProperty {
  kernel: string;
  colorSpace: SplatColorSpace;
  projection: string;
  sortingMethod: string;
}

/** The per-primitive `KHR_gaussian_splatting` object: kernel, colour space, projection, sorting. */
export class GaussianSplatting extends ExtensionProperty<IGaussianSplatting> {
  static override EXTENSION_NAME = KHR_GAUSSIAN_SPLATTING;
  declare extensionName: typeof KHR_GAUSSIAN_SPLATTING;
  declare propertyType: 'GaussianSplatting';
  declare parentTypes: [PropertyType.PRIMITIVE];

  protected override init(): void {
    this.extensionName = KHR_GAUSSIAN_SPLATTING;
    this.propertyType = 'GaussianSplatting';
    this.parentTypes = [PropertyType.PRIMITIVE];
  }

  protected override getDefaults(): Nullable<IGaussianSplatting> {
    return Object.assign(super.getDefaults(), {
      kernel: 'ellipse',
      colorSpace: 'srgb_rec709_display' as SplatColorSpace,
      projection: 'perspective',
      sortingMethod: 'cameraDistance',
    });
  }

  getKernel(): string {
    return this.get('kernel');
  }
  setKernel(kernel: string): this {
    return this.set('kernel', kernel);
  }
  getColorSpace(): SplatColorSpace {
    return this.get('colorSpace');
  }
  setColorSpace(colorSpace: SplatColorSpace): this {
    return this.set('colorSpace', colorSpace);
  }
  getProjection(): string {
    return this.get('projection');
  }
  setProjection(projection: string): this {
    return this.set('projection', projection);
  }
  getSortingMethod(): string {
    return this.get('sortingMethod');
  }
  setSortingMethod(sortingMethod: string): this {
    return this.set('sortingMethod', sortingMethod);
  }
}

/**
 * [`KHR_gaussian_splatting`](https://github.com/KhronosGroup/glTF/tree/main/extensions/2.0/Khronos/KHR_gaussian_splatting)
 * for glTF-Transform: a POINTS primitive whose attributes (`KHR_gaussian_splatting:SCALE`, …) hold
 * the Gaussians, and this extension object on the primitive. The attributes themselves are
 * ordinary primitive attributes, which glTF-Transform reads and writes unchanged.
 *
 * @example
 * const splatting = document.createExtension(KHRGaussianSplatting).createGaussianSplatting();
 * primitive.setMode(Primitive.Mode.POINTS).setExtension(KHR_GAUSSIAN_SPLATTING, splatting);
 */
export class KHRGaussianSplatting extends Extension {
  static override EXTENSION_NAME = KHR_GAUSSIAN_SPLATTING;
  override readonly extensionName = KHR_GAUSSIAN_SPLATTING;

  createGaussianSplatting(): GaussianSplatting {
    return new GaussianSplatting(this.document.getGraph());
  }

  override read(context: ReaderContext): this {
    const meshDefs = context.jsonDoc.json.meshes ?? [];
    meshDefs.forEach((meshDef, meshIndex) => {
      meshDef.primitives.forEach((primitiveDef, primitiveIndex) => {
        const def = primitiveDef.extensions?.[KHR_GAUSSIAN_SPLATTING] as Partial<IGaussianSplatting> | undefined;
        if (!def) return;
        const splatting = this.createGaussianSplatting();
        if (def.kernel) splatting.setKernel(def.kernel);
        if (def.colorSpace) splatting.setColorSpace(def.colorSpace);
        if (def.projection) splatting.setProjection(def.projection);
        if (def.sortingMethod) splatting.setSortingMethod(def.sortingMethod);
        context.meshes[meshIndex].listPrimitives()[primitiveIndex].setExtension(KHR_GAUSSIAN_SPLATTING, splatting);
      });
    });
    return this;
  }

  override write(context: WriterContext): this {
    const json = context.jsonDoc.json;
    for (const mesh of this.document.getRoot().listMeshes()) {
      const meshIndex = context.meshIndexMap.get(mesh);
      if (meshIndex === undefined) continue;
      mesh.listPrimitives().forEach((primitive, primitiveIndex) => {
        const splatting = primitive.getExtension<GaussianSplatting>(KHR_GAUSSIAN_SPLATTING);
        if (!splatting) return;
        const primitiveDef = json.meshes![meshIndex].primitives[primitiveIndex];
        primitiveDef.extensions = {
          ...primitiveDef.extensions,
          [KHR_GAUSSIAN_SPLATTING]: {
            kernel: splatting.getKernel(),
            colorSpace: splatting.getColorSpace(),
            projection: splatting.getProjection(),
            sortingMethod: splatting.getSortingMethod(),
          },
        };
      });
    }
    return this;
  }
}
