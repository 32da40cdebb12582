import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MODEL_KINDS, RUNTIME_GRAPHS, describeBundleFile, writeManifest } from '../../../src/generate/diffportrait360/bundle.js';
import { BUNDLE_FORMAT, BUNDLE_VERSION, type BundleManifest, DEFAULT_SAMPLER, graphFileName, graphKey } from '../../../src/generate/diffportrait360/bundle-manifest.js';
import { TINY_CONFIG } from '../../../src/generate/diffportrait360/config.js';
import { graphSignature } from '../../../src/generate/diffportrait360/signatures.js';

/** A bundle with placeholder graph files (the validator does not parse ONNX). */
export async function writeFakeBundle(dir: string): Promise<{ dir: string; manifest: BundleManifest }> {
  mkdirSync(join(dir, 'graphs'), { recursive: true });
  mkdirSync(join(dir, 'hints'), { recursive: true });
  const graphs: BundleManifest['graphs'] = {};
  for (const model of MODEL_KINDS) {
    for (const graph of RUNTIME_GRAPHS) {
      const file = graphFileName(model, graph);
      writeFileSync(join(dir, file), `onnx ${model} ${graph}`);
      graphs[graphKey(model, graph)] = { ...(await describeBundleFile(dir, file)), model, graph, signature: graphSignature(TINY_CONFIG, model, graph) };
    }
  }
  const shape = [1, 77, TINY_CONFIG.unet.contextDim];
  const contexts = {} as BundleManifest['contexts'];
  for (const model of MODEL_KINDS) {
    const values = new Float32Array(77 * shape[2]).map((_, i) => i / 100);
    writeFileSync(join(dir, `context_${model}.bin`), Buffer.from(values.buffer));
    contexts[model] = { ...(await describeBundleFile(dir, `context_${model}.bin`)), shape };
  }
  const hints = [];
  for (let k = 0; k < 32; k++) {
    const file = `hints/${String(k).padStart(2, '0')}.png`;
    writeFileSync(join(dir, file), `hint ${k}`);
    hints.push(await describeBundleFile(dir, file));
  }
  const manifest: BundleManifest = { format: BUNDLE_FORMAT, version: BUNDLE_VERSION, config: TINY_CONFIG, precision: 'fp32', source: { kind: 'random', seed: 1 }, graphs, contexts, hints, sampler: DEFAULT_SAMPLER };
  await writeManifest(dir, manifest);
  return { dir, manifest };
}

