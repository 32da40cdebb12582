/**
 * The DDPM/DDIM schedule of the released DiffPortrait360 code (diffportrait360.md §3.1–3.2,
 * diffportrait360-reference-on-cpu.md §7), reproduced with its exact precision:
 *
 * - β = linspace(√β₀, √β₁, 1000)² in float64, ᾱ = cumprod(1 − β) in float64, stored as float16;
 * - DDIM timesteps 1, 1+c, …, (c = 1000 / steps, the +1 offset), visited in descending order;
 * - a_t = ᾱ[t] (float16), a_prev = ᾱ[t − c] or ᾱ[0] at the first timestep (float64 of the float16);
 * - √(1 − a_t) = fp16(√fp16(1 − a_t));
 * - σ_t = η·√(fp16(1 / fp16(1 − a_t))·(1 − a_prev)·(1 − a_t/a_prev)) in float64;
 * - then each is rounded to float32, as `torch.full(…, value)` does in the sampler step.
 */
import type { SamplerConstants } from '../bundle-manifest.js';
import { Head3dError } from '../../../core/errors.js';
import { roundToFloat16 } from './float16.js';

/** What one DDIM step needs, already in the precision the released sampler uses (float32 values). */
export interface DdimStepParameters {
  /** The model timestep of this step (981, 961, …, 1 for 50 steps). */
  timestep: number;
  /** Index in the DDIM schedule (steps − 1 … 0, as the released sampler counts). */
  index: number;
  alpha: number;
  alphaPrev: number;
  sqrtOneMinusAlpha: number;
  sigma: number;
}

export interface DdimSchedule {
  /** ᾱ for every training timestep, float16-rounded when `float16Schedule` (float64 numbers). */
  alphasCumprod: Float64Array;
  /** The steps in the order they run: timestep descending. */
  steps: DdimStepParameters[];
  /** √ᾱ and √(1 − ᾱ) at `initialNoiseTimestep` as float16 buffers (q_sample's factors), in float32. */
  initialNoise: { timestep: number; sqrtAlpha: number; sqrtOneMinusAlpha: number };
}

/** torch.linspace(start, end, steps, dtype=float64): the first half from the start, the second from the end. */
export function linspace64(start: number, end: number, steps: number): Float64Array {
  const out = new Float64Array(steps);
  if (steps === 1) {
    out[0] = start;
    return out;
  }
  const step = (end - start) / (steps - 1);
  const half = Math.floor(steps / 2);
  for (let i = 0; i < steps; i++) out[i] = i < half ? start + step * i : end - step * (steps - 1 - i);
  return out;
}

/** ᾱ_t for t = 0 … trainTimesteps − 1 in float64, before any float16 rounding. */
export function alphasCumprod64(constants: Pick<SamplerConstants, 'betaStart' | 'betaEnd' | 'trainTimesteps'>): Float64Array {
  const roots = linspace64(Math.sqrt(constants.betaStart), Math.sqrt(constants.betaEnd), constants.trainTimesteps);
  const out = new Float64Array(constants.trainTimesteps);
  let product = 1;
  for (let t = 0; t < roots.length; t++) {
    product *= 1 - roots[t] * roots[t];
    out[t] = product;
  }
  return out;
}

/** The DDIM timesteps (ascending) the released sampler uses for `steps` ("uniform", +1 offset). */
export function ddimTimesteps(steps: number, trainTimesteps: number): number[] {
  // The released code takes range(0, T, T // steps) + 1, which overruns the schedule unless steps divides T.
  if (!Number.isInteger(steps) || steps < 1 || trainTimesteps % steps !== 0) {
    throw new Head3dError(`DDIM steps must divide ${trainTimesteps}, not ${steps}`, { hint: 'e.g. 50 (the released setting), 25, 20, 10, 5, 2' });
  }
  const c = Math.floor(trainTimesteps / steps);
  const timesteps: number[] = [];
  for (let t = 0; t < trainTimesteps; t += c) timesteps.push(t + 1);
  return timesteps;
}

/**
 * The whole schedule for the sampler constants, `steps` overriding `constants.steps` (fewer steps
 * for tests and previews; the released code uses 50).
 *
 * @example
 * const { steps } = ddimSchedule(DEFAULT_SAMPLER); // steps[0].timestep === 981
 */
export function ddimSchedule(constants: SamplerConstants, steps = constants.steps): DdimSchedule {
  const half = constants.float16Schedule ? roundToFloat16 : (v: number) => v;
  const exact = alphasCumprod64(constants);
  const alphasCumprod = exact.map(half);
  const timesteps = ddimTimesteps(steps, constants.trainTimesteps);
  const parameters = timesteps.map((timestep, index): DdimStepParameters => {
    const a = alphasCumprod[timestep];
    const aPrev = index === 0 ? alphasCumprod[0] : alphasCumprod[timesteps[index - 1]];
    const oneMinusA = half(1 - a);
    const sqrtOneMinusAlpha = half(Math.sqrt(oneMinusA));
    const sigma = constants.eta * Math.sqrt(half(1 / oneMinusA) * (1 - aPrev) * (1 - a / aPrev));
    return {
      timestep,
      index,
      alpha: Math.fround(a),
      alphaPrev: Math.fround(aPrev),
      sqrtOneMinusAlpha: Math.fround(sqrtOneMinusAlpha),
      sigma: Math.fround(sigma),
    };
  });
  const t0 = constants.initialNoiseTimestep;
  return {
    alphasCumprod,
    steps: parameters.reverse(),
    initialNoise: {
      timestep: t0,
      sqrtAlpha: Math.fround(half(Math.sqrt(exact[t0]))),
      sqrtOneMinusAlpha: Math.fround(half(Math.sqrt(1 - exact[t0]))),
    },
  };
}
