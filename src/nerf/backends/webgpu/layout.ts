import { type DenseLayerLayout, type FieldConfig, type ParameterLayout, parameterLayout, shCoefficientCount } from '../../field/config.js';

/**
 * Per-sample buffer layouts shared by the WGSL kernels and their hosts. The activation tape is the
 * CPU backend's (FieldKernels): [encoded | density hidden… | geometry features | SH | colour hidden… | rgb],
 * so a GPU tape row can be compared with a CPU one float for float. The delta row holds what the
 * backward pass produces per sample: [d encoded | dy of each dense layer, density layers first].
 */
export interface GpuFieldLayout {
  params: ParameterLayout;
  encodedWidth: number;
  shWidth: number;
  /** Tape offsets of each dense layer's input (density layers, then colour layers). */
  layerInputOffsets: number[];
  /** Tape offsets of each dense layer's output. */
  layerOutputOffsets: number[];
  geometryOffset: number;
  shOffset: number;
  rgbOffset: number;
  tapeStride: number;
  /** Delta-row offsets of each dense layer's dL/d(pre-activation output). */
  layerDeltaOffsets: number[];
  deltaStride: number;
  /** All dense layers, density first. */
  layers: DenseLayerLayout[];
  densityLayerCount: number;
}

export function gpuFieldLayout(config: FieldConfig): GpuFieldLayout {
  const params = parameterLayout(config);
  const encodedWidth = config.encoding.levels * config.encoding.featuresPerLevel;
  const shWidth = shCoefficientCount(config.shDegree);
  const layers = [...params.densityLayers, ...params.colorLayers];
  let offset = encodedWidth;
  const densityOut = config.densityHidden.map((w) => ((offset += w), offset - w));
  const geometryOffset = offset;
  offset += config.geometryFeatures;
  const shOffset = offset;
  offset += shWidth;
  const colorOut = config.colorHidden.map((w) => ((offset += w), offset - w));
  const rgbOffset = offset;
  const tapeStride = offset + 3;
  const layerOutputOffsets = [...densityOut, geometryOffset, ...colorOut, rgbOffset];
  const layerInputOffsets = [0, ...densityOut, geometryOffset, ...colorOut];
  const layerDeltaOffsets: number[] = [];
  let delta = encodedWidth;
  for (const layer of layers) {
    layerDeltaOffsets.push(delta);
    delta += layer.outputs;
  }
  return {
    params, encodedWidth, shWidth, layerInputOffsets, layerOutputOffsets, geometryOffset, shOffset, rgbOffset, tapeStride,
    layerDeltaOffsets, deltaStride: delta, layers, densityLayerCount: params.densityLayers.length,
  };
}
