/**
 * One DDIM step of the released sampler (p_sample_ddim at index 49, t = 981, CFG 3, η = 0.5, with
 * injected noise) against head3d's schedule and step. With HEAD3D_DP360_REFERENCE set to the output
 * folder of scripts/reference/make_tiny_fixtures.py; skipped otherwise.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SAMPLER } from '../../../src/generate/diffportrait360/bundle-manifest.js';
import { ddimStep, guidedEpsilon } from '../../../src/generate/diffportrait360/sampler/ddim.js';
import { ddimSchedule } from '../../../src/generate/diffportrait360/sampler/schedule.js';

const REFERENCE = process.env.HEAD3D_DP360_REFERENCE;
const available = REFERENCE !== undefined && existsSync(join(REFERENCE, 'manifest.json'));

interface DdimFixture {
  index: number;
  timestep: number;
  inputs: Record<'x' | 'noise' | 'epsCond' | 'epsUncond', string>;
  outputs: Record<'xPrev' | 'predX0', string>;
  aT: number;
  aPrev: number;
  sigmaT: number;
  sqrtOneMinusAT: number;
}

function tensor(manifest: { models: Record<string, { tensors: Record<string, { file: string }> }> }, model: string, name: string): Float32Array {
  const bytes = readFileSync(join(REFERENCE!, manifest.models[model].tensors[name].file));
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

describe.skipIf(!available)('DDIM step vs the released sampler (reference fixtures)', () => {
  const manifest = available ? JSON.parse(readFileSync(join(REFERENCE!, 'manifest.json'), 'utf8')) : undefined;
  const schedule = ddimSchedule(DEFAULT_SAMPLER);
  for (const model of ['orbit', 'back']) {
    it(`${model}: schedule values equal, x_prev and pred_x0 within the ε rounding of the fixtures`, () => {
      const d = manifest.models[model].ddim as DdimFixture;
      const p = schedule.steps.find((s) => s.index === d.index)!;
      expect(p.timestep).toBe(d.timestep);
      expect(p.alpha).toBe(d.aT);
      expect(p.alphaPrev).toBe(d.aPrev);
      expect(p.sigma).toBe(d.sigmaT);
      expect(p.sqrtOneMinusAlpha).toBe(d.sqrtOneMinusAT);
      const eps = guidedEpsilon(tensor(manifest, model, d.inputs.epsCond), tensor(manifest, model, d.inputs.epsUncond), DEFAULT_SAMPLER.guidanceScale);
      const { x, predX0 } = ddimStep(tensor(manifest, model, d.inputs.x), eps, p, tensor(manifest, model, d.inputs.noise));
      const xPrev = tensor(manifest, model, d.outputs.xPrev);
      const x0 = tensor(manifest, model, d.outputs.predX0);
      let worstX = 0;
      let worstX0 = 0;
      for (let i = 0; i < x.length; i++) {
        worstX = Math.max(worstX, Math.abs(x[i] - xPrev[i]));
        worstX0 = Math.max(worstX0, Math.abs(predX0[i] - x0[i]));
      }
      // The fixture's ε come from separate graph calls, which differ from the ε inside apply_model by
      // checks.applyModelCondMaxAbsDiff (thread-order rounding); through CFG (×3) and ÷√a_t (×13) that
      // bounds pred_x0, and ×√a_prev (0.085) plus the direction term bounds x_prev.
      const epsSlack = 3 * (manifest.models[model].checks.applyModelCondMaxAbsDiff + manifest.models[model].checks.applyModelUncondMaxAbsDiff);
      expect(worstX0).toBeLessThanOrEqual(1e-5 + (epsSlack * p.sqrtOneMinusAlpha) / Math.sqrt(p.alpha) * 1.01);
      expect(worstX).toBeLessThanOrEqual(2e-6 + epsSlack * 2);
      if (epsSlack === 0) expect(worstX0 + worstX).toBe(0); // same ε: bit-identical to the released sampler
      console.log(`${model}: max |Δ| pred_x0 ${worstX0.toExponential(2)}, x_prev ${worstX.toExponential(2)} (ε slack ${epsSlack.toExponential(2)})`);
    });
  }
});
