import { existsSync, readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Head3dError } from '../../core/errors.js';
import type { FitBackend } from './backend.js';
import { CpuBackend } from './cpu/cpu-backend.js';

export type BackendChoice = 'auto' | 'cpu' | 'webgpu';

export function isBackendChoice(value: string): value is BackendChoice {
  return value === 'auto' || value === 'cpu' || value === 'webgpu';
}

/**
 * Whether this machine may have a hardware GPU for Dawn. On Linux a GPU needs a DRM render node or
 * an NVIDIA device file; without one, `auto` does not load Dawn at all (probing prints driver
 * warnings and only finds the software adapter, which the CPU backend outruns). Elsewhere: maybe.
 */
function mayHaveGpu(): boolean {
  if (process.platform !== 'linux') return true;
  if (existsSync('/dev/nvidia0') || existsSync('/dev/dxg')) return true;
  try {
    return readdirSync('/dev/dri').some((name) => name.startsWith('renderD'));
  } catch {
    return false;
  }
}

/**
 * The compute backend for a fit or render.
 * - `cpu`: the TypeScript backend on `threads` worker threads.
 * - `webgpu`: the WGSL backend on the first WebGPU adapter (a GPU, else Mesa's software one);
 *   throws a one-line Head3dError when there is none.
 * - `auto`: the WebGPU backend on a hardware GPU, otherwise the CPU backend. A software adapter
 *   (llvmpipe) is never chosen automatically: measured slower than the CPU backend (bench/fit.ts).
 * @example
 * const backend = await createBackend('auto');
 * console.log(backend.name); // 'webgpu' on a GPU machine, 'cpu' elsewhere
 */
export async function createBackend(choice: BackendChoice = 'auto', threads = availableParallelism()): Promise<FitBackend> {
  const cpu = () => new CpuBackend(Math.max(1, Math.floor(threads)));
  if (choice === 'cpu') return cpu();
  const { WebGpuBackend } = await import('./webgpu/webgpu-backend.js');
  if (choice === 'webgpu') return WebGpuBackend.create();
  if (!mayHaveGpu()) return cpu();
  try {
    return await WebGpuBackend.create({ acquire: { gpuOnly: true } });
  } catch (error) {
    // No hardware adapter (Head3dError), or one that failed to open a device: the CPU backend always works.
    if (!(error instanceof Head3dError)) process.emitWarning(`WebGPU device failed (${error instanceof Error ? error.message : String(error)}); using the CPU backend`);
  }
  return cpu();
}
