/**
 * Images to and from the networks' tensors: RGB in [−1, 1], channels first (what the released code
 * gets from PIL → ToTensor → Normalize(0.5, 0.5)), and decoded images back to 8-bit.
 */
import sharp from 'sharp';
import type { RgbaImage } from '../../core/image.js';

/**
 * The RGB of `image` resized to size² (bicubic, as PIL's default) as float32 CHW in [−1, 1]. Alpha is
 * dropped before resizing so the matte cannot change the colours: the reference does not mask.
 */
export async function imageToTensor(image: RgbaImage, size: number): Promise<Float32Array> {
  const pixels = image.width * image.height;
  let rgb = new Uint8Array(pixels * 3);
  for (let p = 0; p < pixels; p++) {
    rgb[p * 3] = image.data[p * 4];
    rgb[p * 3 + 1] = image.data[p * 4 + 1];
    rgb[p * 3 + 2] = image.data[p * 4 + 2];
  }
  if (image.width !== size || image.height !== size) {
    const { data } = await sharp(rgb, { raw: { width: image.width, height: image.height, channels: 3 } })
      .resize(size, size, { fit: 'fill', kernel: 'cubic' })
      .raw()
      .toBuffer({ resolveWithObject: true });
    rgb = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }
  const plane = size * size;
  const out = new Float32Array(3 * plane);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) out[c * plane + p] = Math.fround(Math.fround(rgb[p * 3 + c] / 255) - 0.5) / 0.5;
  }
  return out;
}

/**
 * One decoded image (float32 CHW, nominally [−1, 1]) to an opaque RGBA8 image: clamp to [−1, 1],
 * map to [0, 1], ×255 and round (torchvision's save_image: mul(255).add(0.5).clamp, truncated).
 */
export function tensorToImage(data: Float32Array, size: number, offset = 0): RgbaImage {
  const plane = size * size;
  const out = new Uint8Array(plane * 4);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) {
      const v = Math.min(1, Math.max(-1, data[offset + c * plane + p]));
      out[p * 4 + c] = Math.min(255, Math.floor(((v + 1) / 2) * 255 + 0.5));
    }
    out[p * 4 + 3] = 255;
  }
  return { width: size, height: size, data: out };
}
