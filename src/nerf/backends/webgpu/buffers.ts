/** Small helpers for storage buffers: upload, allocate, read back. */

/** Evaluated on use: the GPU* globals exist only once device.ts has loaded Dawn. */
const storageUsage = (): number => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

/** A storage buffer holding `data` (size rounded up to 4 bytes, at least 16). */
export function uploadBuffer(device: GPUDevice, data: Float32Array | Uint32Array, label?: string): GPUBuffer {
  const buffer = device.createBuffer({ label, size: Math.max(16, Math.ceil(data.byteLength / 4) * 4), usage: storageUsage(), mappedAtCreation: true });
  const target = data instanceof Float32Array ? new Float32Array(buffer.getMappedRange()) : new Uint32Array(buffer.getMappedRange());
  target.set(data);
  buffer.unmap();
  return buffer;
}

/** A zeroed storage buffer of `floats` 4-byte words. */
export function storageBuffer(device: GPUDevice, floats: number, label?: string): GPUBuffer {
  return device.createBuffer({ label, size: Math.max(16, floats * 4), usage: storageUsage() });
}

/** A uniform buffer of u32 words (padded to 16 bytes). */
export function uniformBuffer(device: GPUDevice, words: number[]): GPUBuffer {
  const padded = Math.ceil(Math.max(1, words.length) / 4) * 4;
  const buffer = device.createBuffer({ size: padded * 4, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, mappedAtCreation: true });
  new Uint32Array(buffer.getMappedRange()).set(words);
  buffer.unmap();
  return buffer;
}

/** Copies `floats` words from a storage buffer back to the host (waits for the queue). */
export async function readFloats(device: GPUDevice, source: GPUBuffer, floats: number, offsetFloats = 0): Promise<Float32Array> {
  const size = Math.max(4, floats * 4);
  const staging = device.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const encoder = device.createCommandEncoder();
  encoder.copyBufferToBuffer(source, offsetFloats * 4, staging, 0, size);
  device.queue.submit([encoder.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const copy = new Float32Array(staging.getMappedRange().slice(0, floats * 4));
  staging.unmap();
  staging.destroy();
  return copy;
}
