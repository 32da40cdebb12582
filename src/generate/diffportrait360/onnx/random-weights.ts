/**
 * Seeded random weights for tiny and full-size test models. Each tensor's values depend only on
 * the seed and its name, so a parameter gets the same values in every graph that declares it.
 *
 * Every parameter is drawn (nothing is left at PyTorch's zero initialisation, which would make whole
 * paths identities and parity tests meaningless): ≥2-D tensors ~ N(0, std²); biases ~ N(0, biasStd²);
 * 1-D weights (norm scales) ~ 1 + N(0, biasStd²); buffers keep their fixed contents.
 */
import { createRandom, mixSeed } from '../../../core/random.js';
import type { ParamSpec, WeightSource } from './graph-builder.js';

export interface RandomWeightOptions {
  seed: number;
  /** Standard deviation of ≥2-D tensors (0.2 tiny; ~0.02 keeps full-size activations finite). */
  std: number;
  /** Standard deviation of 1-D tensors around 0 (biases) or 1 (norm weights). */
  biasStd: number;
}

function nameHash(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export class RandomWeights implements WeightSource {
  constructor(private readonly options: RandomWeightOptions) {}

  read(spec: ParamSpec): Float32Array {
    if (spec.buffer) return spec.buffer;
    const count = spec.shape.reduce((a, b) => a * b, 1);
    const random = createRandom(mixSeed(this.options.seed, nameHash(spec.name)));
    const isMatrix = spec.shape.length >= 2;
    const std = isMatrix ? this.options.std : this.options.biasStd;
    const mean = !isMatrix && spec.name.endsWith('.weight') ? 1 : 0;
    const out = new Float32Array(count);
    for (let i = 0; i < count; i += 2) {
      // Box–Muller: two independent normals per pair of uniforms.
      const radius = Math.sqrt(-2 * Math.log(1 - random()));
      const angle = 2 * Math.PI * random();
      out[i] = mean + std * radius * Math.cos(angle);
      if (i + 1 < count) out[i + 1] = mean + std * radius * Math.sin(angle);
    }
    return out;
  }
}
