import { availableParallelism } from 'node:os';
import { Head3dError } from '../../core/errors.js';
import type { FitBackend } from './backend.js';
import { CpuBackend } from './cpu/cpu-backend.js';

export type BackendChoice = 'auto' | 'cpu' | 'webgpu';

export function isBackendChoice(value: string): value is BackendChoice {
  return value === 'auto' || value === 'cpu' || value === 'webgpu';
}

/** The compute backend for a fit or render; `auto` is the CPU backend until the WebGPU one lands. */
export function createBackend(choice: BackendChoice = 'auto', threads = availableParallelism()): FitBackend {
  if (choice === 'webgpu') {
    throw new Head3dError('the WebGPU backend is not available in this version', { hint: 'use --backend cpu (or auto)' });
  }
  return new CpuBackend(Math.max(1, Math.floor(threads)));
}
