import type { FieldSampler } from '../../export/field-sampler.js';
import type { FitState } from '../train/fit.js';
import { cellIndex } from '../render/occupancy.js';
import { FieldKernels } from './field.js';

/**
 * A fitted field as the exporters see it: density and a view-independent colour at world points,
 * evaluated on this thread. The colour is the one seen along the given view directions, else
 * looking at the point from outside along the ray toward the head centre, the way the orbit
 * cameras saw most surfaces in training.
 */
export function fittedFieldSampler(state: FitState): FieldSampler {
  const kernels = new FieldKernels(state.config);
  const params = state.params;
  const unit = new Float32Array(3);
  const scratch = new Float32Array(kernels.densityScratchSize);
  const tape = new Float32Array(kernels.tapeStride);
  const grid = state.grid;
  return {
    boundsMin: [...state.config.boundsMin],
    boundsMax: [...state.config.boundsMax],
    density(xyz, count, out) {
      for (let i = 0; i < count; i++) {
        const x = xyz[i * 3], y = xyz[i * 3 + 1], z = xyz[i * 3 + 2];
        const cell = cellIndex(grid, x, y, z);
        if (cell < 0 || grid.carved[cell] || !kernels.toUnit(x, y, z, unit)) {
          out[i] = 0;
          continue;
        }
        out[i] = kernels.density(params, unit[0], unit[1], unit[2], scratch);
      }
    },
    color(xyz, count, out, directions) {
      for (let i = 0; i < count; i++) {
        const x = xyz[i * 3], y = xyz[i * 3 + 1], z = xyz[i * 3 + 2];
        kernels.toUnit(x, y, z, unit);
        const length = Math.hypot(x, y, z) || 1;
        const [dx, dy, dz] = directions
          ? [directions[i * 3], directions[i * 3 + 1], directions[i * 3 + 2]]
          : [-x / length, -y / length, -z / length];
        kernels.forward(params, clamp01(unit[0]), clamp01(unit[1]), clamp01(unit[2]), dx, dy, dz, tape, 0);
        for (let k = 0; k < 3; k++) out[i * 3 + k] = kernels.rgb(tape, 0, k);
      }
    },
    occupied(x, y, z) {
      const cell = cellIndex(grid, x, y, z);
      return cell >= 0 && grid.occupied[cell] === 1;
    },
  };
}

function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}
