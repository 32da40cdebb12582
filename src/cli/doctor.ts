import { cpus, totalmem } from 'node:os';
import type { Command } from 'commander';
import { listAdapters } from '../nerf/backends/webgpu/device.js';
import { cudaProviderInstalled } from '../generate/diffportrait360/runtime/onnx-runtime.js';
import { outputFor } from './program.js';

/** The adapter limits that decide which field configs and batch sizes fit. */
const KEY_LIMITS = [
  'maxStorageBufferBindingSize', 'maxBufferSize', 'maxStorageBuffersPerShaderStage', 'maxComputeWorkgroupSizeX',
  'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupStorageSize', 'maxComputeWorkgroupsPerDimension', 'maxUniformBufferBindingSize',
] as const;

interface AdapterReport {
  label: string;
  kind: string;
  backend: string;
  featureLevel: string;
  features: string[];
  limits: Record<string, number>;
}

interface DoctorReport {
  node: string;
  platform: string;
  cpu: { model: string; cores: number };
  memoryGiB: number;
  webgpu: { adapters: AdapterReport[]; error?: string };
  onnxruntime: { installed: boolean; version?: string; backends?: string[]; cudaInstalled?: boolean; error?: string };
}

async function webgpuReport(): Promise<DoctorReport['webgpu']> {
  try {
    const adapters = await listAdapters();
    return {
      adapters: adapters.map((a) => ({
        label: a.label, kind: a.kind, backend: a.backend, featureLevel: a.featureLevel,
        features: [...a.adapter.features].sort(),
        limits: Object.fromEntries(KEY_LIMITS.map((k) => [k, (a.adapter.limits as unknown as Record<string, number>)[k]])),
      })),
    };
  } catch (error) {
    return { adapters: [], error: error instanceof Error ? error.message : String(error) };
  }
}

/** onnxruntime-node is optional: report its version and backends when it is installed. */
async function onnxReport(): Promise<DoctorReport['onnxruntime']> {
  const name = 'onnxruntime-node';
  let ort: { env?: { versions?: { node?: string; common?: string } }; listSupportedBackends?: () => { name: string }[] };
  try {
    ort = (await import(name)) as typeof ort;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return { installed: false };
    return { installed: true, error: error instanceof Error ? error.message : String(error) };
  }
  return {
    installed: true,
    version: ort.env?.versions?.node ?? ort.env?.versions?.common,
    backends: ort.listSupportedBackends?.().map((b) => b.name),
    // listSupportedBackends names cuda whether or not its provider library was downloaded.
    cudaInstalled: cudaProviderInstalled(),
  };
}

function formatBytes(n: number): string {
  return n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(1)} GiB` : `${(n / 2 ** 20).toFixed(0)} MiB`;
}

function text(r: DoctorReport): string {
  const lines = [
    `node ${r.node} on ${r.platform}`,
    `cpu: ${r.cpu.model} × ${r.cpu.cores}, ${r.memoryGiB.toFixed(1)} GiB memory`,
    `webgpu: ${r.webgpu.adapters.length === 0 ? `no adapter${r.webgpu.error ? ` (${r.webgpu.error})` : ' (install mesa-vulkan-drivers libvulkan1 for a CPU adapter)'}` : `${r.webgpu.adapters.length} adapter(s)`}`,
  ];
  for (const a of r.webgpu.adapters) {
    const l = a.limits;
    lines.push(
      `  ${a.kind === 'gpu' ? 'GPU' : 'CPU'}  ${a.label}  [${a.backend}, ${a.featureLevel}]`,
      `       storage binding ${formatBytes(l.maxStorageBufferBindingSize)}, buffer ${formatBytes(l.maxBufferSize)}, ` +
        `${l.maxStorageBuffersPerShaderStage} storage buffers/stage, workgroup ≤ ${l.maxComputeInvocationsPerWorkgroup} (x ≤ ${l.maxComputeWorkgroupSizeX}), ` +
        `${l.maxComputeWorkgroupStorageSize} B shared`,
    );
  }
  const o = r.onnxruntime;
  lines.push(
    !o.installed ? 'onnxruntime-node: not installed (needed only for the diffportrait360 generator)'
      : o.error ? `onnxruntime-node: installed but failed to load: ${o.error}`
      : `onnxruntime-node ${o.version ?? '(version unknown)'}: execution providers ${o.backends?.join(', ') ?? '(not listed by this version)'}; ` +
        (o.cudaInstalled ? 'CUDA provider installed (diffportrait360 runs on the GPU)' : 'CUDA provider not installed (diffportrait360 runs on the CPU; see README "DiffPortrait360 on a GPU")'),
  );
  return lines.join('\n');
}

/**
 * `head3d doctor`: what this machine offers head3d — Node and CPU, WebGPU adapters (hardware
 * first, then Mesa's software adapter) with the limits that matter to the fit, and onnxruntime's
 * execution providers when onnxruntime-node is installed.
 */
export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('print the compute this machine offers: CPU, WebGPU adapters and limits, onnxruntime providers')
    .action(async (_options: unknown, command: Command) => {
      const out = outputFor(command);
      const cpu = cpus();
      const report: DoctorReport = {
        node: process.version,
        platform: `${process.platform}-${process.arch}`,
        cpu: { model: cpu[0]?.model.trim() ?? 'unknown', cores: cpu.length },
        memoryGiB: totalmem() / 2 ** 30,
        webgpu: await webgpuReport(),
        onnxruntime: await onnxReport(),
      };
      out.result(text(report), report);
    });
}
