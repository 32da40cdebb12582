import { Document, Logger, Primitive } from '@gltf-transform/core';
import { srgbToLinear } from '../../eval/color.js';
import { KHR_GAUSSIAN_SPLATTING, KHRGaussianSplatting, SPLAT_ATTRIBUTES } from './khr-gaussian-splatting.js';
import { type SplatCloud, splatColor } from './splat-cloud.js';

export interface SplatDocumentOptions {
  /** Node and mesh name (default "head_splats"). */
  name?: string;
  generator?: string;
}

/**
 * A glTF document holding the splats as one `KHR_gaussian_splatting` POINTS primitive (kernel
 * "ellipse", colour space sRGB display), with a linear `COLOR_0` (RGB + opacity) for viewers
 * that only draw points.
 */
export function createSplatDocument(cloud: SplatCloud, options: SplatDocumentOptions = {}): Document {
  const name = options.name ?? 'head_splats';
  const document = new Document().setLogger(new Logger(Logger.Verbosity.WARN));
  document.getRoot().getAsset().generator = options.generator ?? 'head3d';
  const buffer = document.createBuffer();
  const accessor = (array: Float32Array, type: 'SCALAR' | 'VEC3' | 'VEC4') => document.createAccessor().setBuffer(buffer).setType(type).setArray(array);
  const fallback = new Float32Array(cloud.count * 4);
  for (let i = 0; i < cloud.count; i++) {
    const [r, g, b] = splatColor(cloud, i);
    fallback.set([srgbToLinear(r), srgbToLinear(g), srgbToLinear(b), cloud.opacities[i]], i * 4);
  }
  const splatting = document.createExtension(KHRGaussianSplatting).createGaussianSplatting().setColorSpace('srgb_rec709_display');
  const primitive = document
    .createPrimitive()
    .setMode(Primitive.Mode.POINTS)
    .setAttribute('POSITION', accessor(cloud.positions, 'VEC3'))
    .setAttribute('COLOR_0', accessor(fallback, 'VEC4'))
    .setAttribute(SPLAT_ATTRIBUTES.rotation, accessor(cloud.rotations, 'VEC4'))
    .setAttribute(SPLAT_ATTRIBUTES.scale, accessor(cloud.scales, 'VEC3'))
    .setAttribute(SPLAT_ATTRIBUTES.opacity, accessor(cloud.opacities, 'SCALAR'))
    .setAttribute(SPLAT_ATTRIBUTES.sh0, accessor(cloud.sh0, 'VEC3'))
    .setExtension(KHR_GAUSSIAN_SPLATTING, splatting);
  const mesh = document.createMesh(name).addPrimitive(primitive);
  const scene = document.createScene(name).addChild(document.createNode(name).setMesh(mesh));
  document.getRoot().setDefaultScene(scene);
  return document;
}
