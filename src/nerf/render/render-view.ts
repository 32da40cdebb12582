import type { Camera } from '../../core/camera.js';
import type { RgbaImage } from '../../core/image.js';
import type { FitBackend } from '../backends/backend.js';
import { CAMERA_STRIDE, packCamera } from './rays.js';

/**
 * Renders the field from a camera into an 8-bit RGBA image with straight alpha (alpha = the
 * ray's opacity), the layout our views and metrics use.
 */
export async function renderFieldView(backend: FitBackend, camera: Camera): Promise<RgbaImage> {
  const packed = new Float64Array(CAMERA_STRIDE);
  packCamera(camera, packed, 0);
  const { width, height } = camera.intrinsics;
  const composite = await backend.render(packed, width, height, [0, 0, 0]);
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    const alpha = composite[i * 4 + 3];
    const a8 = Math.round(Math.min(1, Math.max(0, alpha)) * 255);
    data[i * 4 + 3] = a8;
    if (a8 === 0) continue;
    // Over black the composite is colour × alpha; divide it back out for straight alpha.
    for (let k = 0; k < 3; k++) data[i * 4 + k] = Math.round(Math.min(1, Math.max(0, composite[i * 4 + k] / alpha)) * 255);
  }
  return { width, height, data };
}
