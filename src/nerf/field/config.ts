/**
 * A field is described by data: this config is written into every checkpoint, so a checkpoint
 * alone rebuilds the network that made it. Defaults are sized for a head on a 2-core CPU
 * (see docs in the fit benchmark); instant-ngp's GPU defaults are 16 levels, 2^19 entries, 64-wide MLPs.
 */
export interface HashEncodingConfig {
  levels: number;
  featuresPerLevel: number;
  log2TableSize: number;
  /** Grid resolution of the coarsest level across the bounding box. */
  baseResolution: number;
  /** Grid resolution of the finest level across the bounding box. */
  finestResolution: number;
}

export interface FieldConfig {
  encoding: HashEncodingConfig;
  /** Hidden widths of the density MLP; it outputs `geometryFeatures` values, the first being log-density. */
  densityHidden: number[];
  geometryFeatures: number;
  /** Hidden widths of the colour MLP. */
  colorHidden: number[];
  /** Spherical-harmonics degree of the view-direction encoding (degree d gives d² coefficients; 1 = view-independent). */
  shDegree: number;
  /** Axis-aligned bounds of the field in world units. */
  boundsMin: [number, number, number];
  boundsMax: [number, number, number];
}

export const DEFAULT_FIELD_CONFIG: FieldConfig = {
  encoding: { levels: 12, featuresPerLevel: 2, log2TableSize: 17, baseResolution: 16, finestResolution: 512 },
  densityHidden: [32],
  geometryFeatures: 16,
  colorHidden: [32],
  shDegree: 3,
  boundsMin: [-0.5, -0.5, -0.5],
  boundsMax: [0.5, 0.5, 0.5],
};

export interface LevelLayout {
  resolution: number;
  /** Entries in this level's table: the dense grid size if that is smaller than the hash table. */
  size: number;
  dense: boolean;
  /** Offset of the level's first entry (in entries, multiply by features per level for floats). */
  offset: number;
}

export function levelLayout(encoding: HashEncodingConfig): LevelLayout[] {
  const { levels, log2TableSize, baseResolution, finestResolution } = encoding;
  const tableSize = 2 ** log2TableSize;
  const growth = levels > 1 ? Math.exp((Math.log(finestResolution) - Math.log(baseResolution)) / (levels - 1)) : 1;
  const layout: LevelLayout[] = [];
  let offset = 0;
  for (let l = 0; l < levels; l++) {
    const resolution = Math.floor(baseResolution * growth ** l);
    const denseSize = (resolution + 1) ** 3;
    const dense = denseSize <= tableSize;
    const size = dense ? denseSize : tableSize;
    layout.push({ resolution, size, dense, offset });
    offset += size;
  }
  return layout;
}

export function shCoefficientCount(degree: number): number {
  return degree * degree;
}

/** Where each parameter block lives in the flat parameter vector. */
export interface ParameterLayout {
  levels: LevelLayout[];
  encodingOffset: number;
  encodingSize: number;
  densityLayers: DenseLayerLayout[];
  colorLayers: DenseLayerLayout[];
  total: number;
}

export interface DenseLayerLayout {
  inputs: number;
  outputs: number;
  /** Row-major weights [outputs][inputs], then `outputs` biases. */
  offset: number;
}

export function parameterLayout(config: FieldConfig): ParameterLayout {
  const levels = levelLayout(config.encoding);
  const entries = levels.reduce((n, l) => n + l.size, 0);
  const encodingSize = entries * config.encoding.featuresPerLevel;
  let offset = encodingSize;
  const dense = (widths: number[]): DenseLayerLayout[] => {
    const layers: DenseLayerLayout[] = [];
    for (let i = 0; i + 1 < widths.length; i++) {
      layers.push({ inputs: widths[i], outputs: widths[i + 1], offset });
      offset += widths[i] * widths[i + 1] + widths[i + 1];
    }
    return layers;
  };
  const encodedWidth = config.encoding.levels * config.encoding.featuresPerLevel;
  const densityLayers = dense([encodedWidth, ...config.densityHidden, config.geometryFeatures]);
  const colorLayers = dense([config.geometryFeatures + shCoefficientCount(config.shDegree), ...config.colorHidden, 3]);
  return { levels, encodingOffset: 0, encodingSize, densityLayers, colorLayers, total: offset };
}
