import { join } from 'node:path';
import { exportMeshGlb } from '../export/export-mesh-glb.js';
import { exportSplatsGlb } from '../export/export-splats.js';
import { fittedFieldSampler } from '../nerf/field/fitted-field.js';
import { readCheckpoint } from '../nerf/train/checkpoint.js';
import type { BuildContext, OutputFormat, StageReport } from './build-context.js';
import { runStage } from './run-stage.js';
import { stageKey } from './stage-record.js';

/** Final files of a build, by role. */
export interface BuildOutputs {
  mesh?: string;
  splats?: string;
}

/** Where each format goes: `head.glb` for one format; with both, the splats go to `head.splats.glb`. */
export function outputPaths(output: string, format: OutputFormat): BuildOutputs {
  if (format === 'mesh') return { mesh: output };
  if (format === 'splats') return { splats: output };
  return { mesh: output, splats: output.replace(/\.glb$/i, '') + '.splats.glb' };
}

/**
 * The export stage: field.h3df → a textured mesh .glb and/or a KHR_gaussian_splatting .glb, each
 * validated and written atomically (the final name appears only once the file is complete).
 */
export async function exportStage(context: BuildContext, outputs: BuildOutputs): Promise<StageReport> {
  const fieldPath = join(context.workDir, 'field.h3df');
  const { mesh, splats } = context.preset;
  const key = await stageKey({ field: fieldPath }, { stage: 'export', version: 1, outputs, mesh, splats });
  return runStage(context, 'export', key, async () => {
    context.progress('export', 'reading the field');
    const { state } = await readCheckpoint(fieldPath);
    const field = fittedFieldSampler(state);
    const facts: Record<string, unknown> = {};
    if (outputs.mesh) {
      const result = await exportMeshGlb(field, outputs.mesh, {
        resolution: mesh.resolution,
        triangles: mesh.triangles,
        textureSize: mesh.textureSize,
        lods: mesh.lods,
        onStage: (stage) => context.progress('export', `mesh: ${stage}`),
      });
      Object.assign(facts, { meshPath: outputs.mesh, triangles: result.triangles, meshBytes: result.bytes, warnings: result.validation.warnings });
    }
    if (outputs.splats) {
      context.progress('export', 'splats: extracting');
      const result = await exportSplatsGlb(field, outputs.splats, { resolution: splats.resolution, maxSplats: splats.maxSplats });
      Object.assign(facts, { splatsPath: outputs.splats, splats: result.cloud.count, splatsBytes: result.bytes });
    }
    return { outputs: [outputs.mesh, outputs.splats].filter((p): p is string => Boolean(p)), facts };
  });
}
