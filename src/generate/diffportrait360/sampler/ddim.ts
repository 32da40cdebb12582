/**
 * The DDIM update with classifier-free guidance, over Float32Arrays, in the float32 arithmetic of
 * the released sampler (`p_sample_ddim`, diffportrait360.md §3.2):
 *
 *   ε  = ε_u + s·(ε_c − ε_u)
 *   x0 = (x − √(1−a_t)·ε) / √a_t
 *   x' = √a_prev·x0 + √(1 − a_prev − σ²)·ε + σ·n
 */
import type { DdimSchedule, DdimStepParameters } from './schedule.js';

const f = Math.fround;

/** ε = ε_u + scale·(ε_c − ε_u), in float32, into `out` (default: a new array). */
export function guidedEpsilon(epsCond: Float32Array, epsUncond: Float32Array, scale: number, out = new Float32Array(epsCond.length)): Float32Array {
  if (epsCond.length !== epsUncond.length || out.length !== epsCond.length) throw new RangeError('guidedEpsilon: arrays differ in length');
  const s = f(scale);
  for (let i = 0; i < out.length; i++) out[i] = f(epsUncond[i] + f(s * f(epsCond[i] - epsUncond[i])));
  return out;
}

export interface DdimStepResult {
  /** x_{t−1}. */
  x: Float32Array;
  /** The predicted clean latent x0. */
  predX0: Float32Array;
}

/**
 * One DDIM step from x_t given the guided ε and the step noise n ~ N(0, I) (ignored when σ = 0).
 *
 * @example
 * const eps = guidedEpsilon(epsC, epsU, 3);
 * x = ddimStep(x, eps, schedule.steps[i], noise).x;
 */
export function ddimStep(x: Float32Array, eps: Float32Array, p: DdimStepParameters, noise?: Float32Array): DdimStepResult {
  if (eps.length !== x.length) throw new RangeError('ddimStep: x and ε differ in length');
  if (p.sigma !== 0 && (!noise || noise.length !== x.length)) throw new RangeError('ddimStep: σ > 0 needs noise of the latent size');
  const sqrtA = f(Math.sqrt(p.alpha));
  const sqrtOneMinusA = f(p.sqrtOneMinusAlpha);
  const sqrtAPrev = f(Math.sqrt(p.alphaPrev));
  const sigma = f(p.sigma);
  const dirScale = f(Math.sqrt(f(f(1 - p.alphaPrev) - f(sigma * sigma))));
  const predX0 = new Float32Array(x.length);
  const next = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const x0 = f(f(x[i] - f(sqrtOneMinusA * eps[i])) / sqrtA);
    predX0[i] = x0;
    let v = f(f(sqrtAPrev * x0) + f(dirScale * eps[i]));
    if (sigma !== 0) v = f(v + f(sigma * noise![i]));
    next[i] = v;
  }
  return { x: next, predX0 };
}

/**
 * The 3D-aware initial latent: q_sample at `schedule.initialNoise.timestep` (999 in the released
 * code, while the first DDIM step is 981): x_T = √ᾱ·z + √(1−ᾱ)·ε.
 */
export function noisedLatent(z: Float32Array, noise: Float32Array, schedule: Pick<DdimSchedule, 'initialNoise'>): Float32Array {
  if (z.length !== noise.length) throw new RangeError('noisedLatent: z and noise differ in length');
  const { sqrtAlpha, sqrtOneMinusAlpha } = schedule.initialNoise;
  const out = new Float32Array(z.length);
  for (let i = 0; i < z.length; i++) out[i] = f(f(sqrtAlpha * z[i]) + f(sqrtOneMinusAlpha * noise[i]));
  return out;
}

/**
 * A sample of the VAE posterior, scaled into the diffusion's latent space:
 * z = scale·(mean + exp(0.5·clamp(logvar, −30, 20))·ε).
 */
export function posteriorSample(mean: Float32Array, logvar: Float32Array, noise: Float32Array, latentScale: number): Float32Array {
  if (mean.length !== logvar.length || mean.length !== noise.length) throw new RangeError('posteriorSample: mean, logvar and noise differ in length');
  const scale = f(latentScale);
  const out = new Float32Array(mean.length);
  for (let i = 0; i < mean.length; i++) {
    const std = f(Math.exp(f(0.5 * Math.min(20, Math.max(-30, logvar[i])))));
    out[i] = f(scale * f(mean[i] + f(std * noise[i])));
  }
  return out;
}
