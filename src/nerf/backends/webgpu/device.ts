import type { create as createGpu } from 'webgpu';
import { Head3dError } from '../../../core/errors.js';

/**
 * WebGPU adapter selection through Dawn (npm `webgpu`).
 *
 * Order: a real GPU through Dawn's default backends (Vulkan / Metal / D3D12), then Mesa's
 * software OpenGL ES driver (llvmpipe) in compatibility mode, which is what machines without a
 * GPU (and CI) have. The GLES path needs `EGL_PLATFORM=surfaceless` in the process environment
 * before Dawn first initialises EGL; setting `process.env` (which calls setenv) before the first
 * `create()` is enough, so {@link prepareEnvironment} does it when the variable is unset.
 * Mesa's disk shader cache crashed Dawn-on-GL on a second run (docs/cpu-throughput.md), so it is
 * disabled the same way.
 */

/** Where an adapter runs: `gpu` for hardware, `cpu` for a software rasteriser (llvmpipe, lavapipe, SwiftShader). */
export type AdapterKind = 'gpu' | 'cpu';

export interface AdapterChoice {
  adapter: GPUAdapter;
  kind: AdapterKind;
  /** Dawn backend toggle used to find it (`default` or `opengles`). */
  backend: 'default' | 'opengles';
  featureLevel: 'core' | 'compatibility';
  /** `vendor device (description)` for messages and `doctor`. */
  label: string;
}

export interface GpuContext extends AdapterChoice {
  device: GPUDevice;
}

export interface AcquireOptions {
  /** Skip hardware adapters (tests that must run on the same software adapter everywhere). Default false. */
  cpuOnly?: boolean;
  /** Skip software adapters. Default false. */
  gpuOnly?: boolean;
}

type DawnModule = { create: typeof createGpu; globals: object };

let dawn: Promise<DawnModule> | null = null;

/**
 * Dawn instances, one per backend toggle, created once and never released. A `GPU` object that
 * the garbage collector frees takes its native instance with it while adapters and devices made
 * from it live on; the next submit then crashes in a destroyed mutex (measured: forcing a GC
 * between two submits crashed 5 of 5 runs with SIGSEGV/SIGABRT/deadlock).
 */
const instances = new Map<string, GPU>();

function instance(module: DawnModule, toggle: string): GPU {
  let gpu = instances.get(toggle);
  if (!gpu) {
    gpu = module.create(toggle === '' ? [] : [toggle]);
    instances.set(toggle, gpu);
  }
  return gpu;
}

/** Sets the environment variables Mesa's EGL/GLES path needs, unless the caller already chose values. */
export function prepareEnvironment(env: NodeJS.ProcessEnv = process.env): void {
  env.EGL_PLATFORM ??= 'surfaceless';
  env.MESA_SHADER_CACHE_DISABLE ??= 'true';
}

/** Loads dawn.node once (lazily, so CPU-only runs never touch it) and installs the WebGPU globals. */
async function loadDawn(): Promise<DawnModule> {
  dawn ??= (async () => {
    prepareEnvironment();
    try {
      const module = (await import('webgpu')) as DawnModule;
      Object.assign(globalThis, module.globals);
      return module;
    } catch (error) {
      dawn = null;
      throw new Head3dError('the npm package "webgpu" (Dawn) could not be loaded', { hint: 'run npm install', cause: error });
    }
  })();
  return dawn;
}

/** Software rasterisers announce themselves in the adapter info; Dawn's fallback flag catches the rest. */
function isSoftware(info: GPUAdapterInfo): boolean {
  if ((info as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter) return true;
  const text = `${info.vendor} ${info.architecture} ${info.device} ${info.description}`.toLowerCase();
  return /llvmpipe|lavapipe|swiftshader|softpipe|software/.test(text);
}

function describe(info: GPUAdapterInfo): string {
  const parts = [info.vendor, info.architecture, info.device].filter((s) => s && s.length > 0);
  return `${parts.join(' ') || 'unknown adapter'}${info.description ? ` (${info.description})` : ''}`;
}

/** Every adapter this machine offers, hardware first. Never throws for "none"; returns []. */
export async function listAdapters(options: AcquireOptions = {}): Promise<AdapterChoice[]> {
  const module = await loadDawn();
  const found: AdapterChoice[] = [];
  if (!options.cpuOnly) {
    const adapter = await instance(module, '').requestAdapter({ powerPreference: 'high-performance' });
    if (adapter) {
      const kind: AdapterKind = isSoftware(adapter.info) ? 'cpu' : 'gpu';
      if (!(options.gpuOnly && kind === 'cpu')) found.push({ adapter, kind, backend: 'default', featureLevel: 'core', label: describe(adapter.info) });
    }
  }
  if (!options.gpuOnly) {
    const adapter = await instance(module, 'backend=opengles').requestAdapter({ featureLevel: 'compatibility' });
    if (adapter) {
      const kind: AdapterKind = isSoftware(adapter.info) ? 'cpu' : 'gpu';
      found.push({ adapter, kind, backend: 'opengles', featureLevel: 'compatibility', label: describe(adapter.info) });
    }
  }
  // Hardware first, then in discovery order.
  return found.sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'gpu' ? -1 : 1));
}

/**
 * Limits the kernels ask for, raised from the (compatibility) defaults to what the adapter
 * allows: storage buffers per stage, the largest binding, and the largest buffer.
 */
function requiredLimits(adapter: GPUAdapter): Record<string, number> {
  const l = adapter.limits;
  return {
    maxStorageBuffersPerShaderStage: Math.min(l.maxStorageBuffersPerShaderStage, 10),
    maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
    maxBufferSize: l.maxBufferSize,
  };
}

/**
 * The first usable adapter and a device on it.
 * @throws Head3dError when the machine offers no WebGPU adapter at all.
 * @example
 * const gpu = await acquireGpu();
 * console.log(gpu.label, gpu.kind);
 * gpu.device.destroy();
 */
export async function acquireGpu(options: AcquireOptions = {}): Promise<GpuContext> {
  const adapters = await listAdapters(options);
  const choice = adapters[0];
  if (!choice) {
    throw new Head3dError('no WebGPU adapter found', {
      hint:
        'on Linux without a GPU install Mesa (apt-get install mesa-vulkan-drivers libvulkan1) for the software OpenGL ES adapter; ' +
        'or use --backend cpu',
    });
  }
  const device = await choice.adapter.requestDevice({ requiredLimits: requiredLimits(choice.adapter) });
  return { ...choice, device };
}
