/**
 * Parity of the UNet-family graphs with the released PyTorch code: the tiny reference state dicts
 * and the per-graph inputs and outputs written by scripts/reference/make_tiny_fixtures.py (the
 * official classes run on CPU, diffportrait360-reference-on-cpu.md). Set HEAD3D_DP360_REFERENCE to
 * that script's output folder; without it the test is skipped (the fixtures are not committed).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { openCheckpoint } from '../../../src/generate/diffportrait360/checkpoint/index.js';
import { TINY_CONFIG } from '../../../src/generate/diffportrait360/config.js';
import { checkpointWeights } from '../../../src/generate/diffportrait360/convert-bundle.js';
import { buildGraph, UNET_GRAPH_NAMES, type UNetGraphName } from '../../../src/generate/diffportrait360/networks/graphs.js';
import { relativeMaxError } from '../../helpers/numeric.js';

const REFERENCE = process.env.HEAD3D_DP360_REFERENCE;
const skipReason = REFERENCE
  ? existsSync(join(REFERENCE, 'manifest.json'))
    ? undefined
    : `HEAD3D_DP360_REFERENCE=${REFERENCE} has no manifest.json`
  : 'HEAD3D_DP360_REFERENCE is not set (the output folder of scripts/reference/make_tiny_fixtures.py)';

interface FixtureTensor {
  file: string;
  shape: number[];
  maxAbs: number;
}
interface FixtureCase {
  graph: string;
  label?: string;
  inputs: Record<string, string | number[]>;
  outputs: Record<string, string>;
}
interface FixtureModel {
  stateDict: string;
  cases: FixtureCase[];
  tensors: Record<string, FixtureTensor>;
}

describe.skipIf(skipReason !== undefined)(`UNet-family graphs against the PyTorch reference${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'head3d-unet-parity-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const model of ['back', 'orbit'] as const)
    it(`${model}: banks, residuals and ε within 1e-4 relative`, async () => {
      const manifest = JSON.parse(readFileSync(join(REFERENCE!, 'manifest.json'), 'utf8')) as { models: Record<string, FixtureModel> };
      const fixture = manifest.models[model]!;
      const tensor = (name: string): ort.Tensor => {
        const t = fixture.tensors[name];
        if (!t) throw new Error(`fixture tensor ${name} missing`);
        const bytes = readFileSync(join(REFERENCE!, t.file));
        return new ort.Tensor('float32', new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)), t.shape);
      };
      const checkpoint = await openCheckpoint(join(REFERENCE!, fixture.stateDict));
      const errors: Record<string, number> = {};
      try {
        const weights = checkpointWeights(checkpoint);
        const sessions = new Map<string, ort.InferenceSession>();
        for (const c of fixture.cases) {
          if (!(UNET_GRAPH_NAMES as readonly string[]).includes(c.graph)) continue;
          const graph = c.graph as UNetGraphName;
          let session = sessions.get(graph);
          if (!session) {
            const file = join(dir, `${model}_${graph}.onnx`);
            await buildGraph(TINY_CONFIG, model, graph).write(file, weights);
            session = await ort.InferenceSession.create(file, { intraOpNumThreads: 1, interOpNumThreads: 1 });
            sessions.set(graph, session);
          }
          const feeds: Record<string, ort.Tensor> = {};
          for (const [name, source] of Object.entries(c.inputs)) {
            feeds[name] = typeof source === 'string' ? tensor(source) : new ort.Tensor('int64', BigInt64Array.from(source.map(BigInt)), [source.length]);
          }
          const out = await session.run(feeds);
          for (const [name, expectedName] of Object.entries(c.outputs)) {
            const expected = tensor(expectedName);
            expect(out[name]!.dims, expectedName).toEqual(expected.dims);
            errors[`${graph}${c.label ? `/${c.label}` : ''}.${name}`] = relativeMaxError(out[name]!.data as Float32Array, expected.data as Float32Array);
          }
        }
      } finally {
        await checkpoint.close();
      }
      const worst = Object.entries(errors).sort((a, b) => b[1] - a[1]);
      const byGraph = new Map<string, number>();
      for (const [name, error] of worst) byGraph.set(name.split(/[./]/)[0]!, Math.max(byGraph.get(name.split(/[./]/)[0]!) ?? 0, error));
      console.log(`${model} parity (largest error / largest value, ${worst.length} outputs): ${[...byGraph].map(([g, e]) => `${g} ${e.toExponential(2)}`).join(', ')}`);
      expect(worst.length).toBeGreaterThanOrEqual(model === 'orbit' ? 16 * 2 + 13 + 2 : 16 + 13 + 2);
      for (const [name, error] of worst) expect(error, name).toBeLessThan(1e-4);
    });
});
