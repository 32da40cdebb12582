import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { exportMeshGlb } from '../export/export-mesh-glb.js';
import { exportSplatsGlb } from '../export/export-splats.js';
import { hullField, loadVisualHull } from '../export/visual-hull.js';
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
 * validated and written atomically (the final name appears only once the file is complete). The
 * field is exported inside the visual hull of the views it was fitted to (views/transforms.json):
 * density the views do not support (unseen corners still at the fit's opaque start, fins behind
 * the head) would otherwise become slabs and floaters in a short fit's mesh.
 */
export async function exportStage(context: BuildContext, outputs: BuildOutputs): Promise<StageReport> {
  const fieldPath = join(context.workDir, 'field.h3df');
  const { mesh, splats } = context.preset;
  const viewsPath = join(context.workDir, 'views', 'transforms.json');
  const hull = existsSync(viewsPath);
  const key = await stageKey({ field: fieldPath, ...(hull ? { views: viewsPath } : {}) }, { stage: 'export', version: 2, outputs, mesh, splats, hull });
  return runStage(context, 'export', key, async () => {
    context.progress('export', 'reading the field');
    const { state } = await readCheckpoint(fieldPath);
    const fitted = fittedFieldSampler(state);
    const field = hull ? hullField(fitted, await loadVisualHull(viewsPath)) : fitted;
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
