/** A compiled compute kernel and how long Dawn (and the driver) took to build it. */
export interface Kernel {
  name: string;
  pipeline: GPUComputePipeline;
  compileMs: number;
}

/**
 * Compiles one WGSL compute shader (entry point `main`, layout `auto`). WGSL errors come back as
 * an Error naming the kernel and listing the compiler's messages: they are bugs, not user errors.
 */
export async function compileKernel(device: GPUDevice, name: string, code: string): Promise<Kernel> {
  const start = performance.now();
  const module = device.createShaderModule({ label: name, code });
  const info = await module.getCompilationInfo();
  const errors = info.messages.filter((m) => m.type === 'error');
  if (errors.length > 0) {
    throw new Error(`WGSL kernel ${name} failed to compile:\n${errors.map((m) => `  ${m.lineNum}:${m.linePos} ${m.message}`).join('\n')}`);
  }
  const pipeline = await device.createComputePipelineAsync({ label: name, layout: 'auto', compute: { module, entryPoint: 'main' } });
  return { name, pipeline, compileMs: performance.now() - start };
}

/** Records one dispatch of `kernel` with the given buffers bound at bindings 0, 1, 2, … of group 0. */
export function dispatch(device: GPUDevice, pass: GPUComputePassEncoder, kernel: Kernel, buffers: GPUBuffer[], workgroups: number): void {
  if (workgroups <= 0) return;
  if (workgroups > 65535) throw new Error(`${kernel.name}: ${workgroups} workgroups exceed one dispatch dimension (batch too large)`);
  const bindGroup = device.createBindGroup({
    layout: kernel.pipeline.getBindGroupLayout(0),
    entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
  });
  pass.setPipeline(kernel.pipeline);
  pass.setBindGroup(0, bindGroup);
  pass.dispatchWorkgroups(workgroups);
}
