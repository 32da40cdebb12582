import { readImage } from '../../core/image.js';
import { Head3dError } from '../../core/errors.js';
import { type ViewSet, frameImagePath } from '../../core/transforms-json.js';
import { CAMERA_STRIDE, packCamera } from '../render/rays.js';

/**
 * All training pixels and cameras of a view set in flat arrays (shared memory when asked), so
 * worker threads can draw random rays without copying images around.
 */
export interface ViewData {
  count: number;
  cameras: Float64Array;
  /** RGBA8 of every view, one after another. */
  pixels: Uint8Array;
  /** Per view: first pixel index (in pixels, not bytes) of the view in `pixels`; length count + 1. */
  pixelOffsets: Float64Array;
  widths: Int32Array;
  heights: Int32Array;
}

export type Allocate = (bytes: number) => ArrayBufferLike;

export const sharedAllocate: Allocate = (bytes) => new SharedArrayBuffer(bytes);

export async function loadViewData(viewSet: ViewSet, allocate: Allocate = sharedAllocate, onImage?: (done: number, total: number) => void): Promise<ViewData> {
  const count = viewSet.frames.length;
  const images = [];
  for (let i = 0; i < count; i++) {
    const frame = viewSet.frames[i];
    const image = await readImage(frameImagePath(viewSet, frame), `view image ${frame.filePath}`);
    const k = frame.camera.intrinsics;
    if (image.width !== k.width || image.height !== k.height) {
      throw new Head3dError(`view image ${frame.filePath} is ${image.width}×${image.height} but its camera says ${k.width}×${k.height}`, {
        hint: 'fix w/h in the transforms.json or resize the image',
      });
    }
    images.push(image);
    onImage?.(i + 1, count);
  }
  const pixelOffsets = new Float64Array(allocate((count + 1) * 8));
  for (let i = 0; i < count; i++) pixelOffsets[i + 1] = pixelOffsets[i] + images[i].width * images[i].height;
  const pixels = new Uint8Array(allocate(pixelOffsets[count] * 4));
  const cameras = new Float64Array(allocate(count * CAMERA_STRIDE * 8));
  const widths = new Int32Array(allocate(count * 4));
  const heights = new Int32Array(allocate(count * 4));
  images.forEach((image, i) => {
    pixels.set(image.data, pixelOffsets[i] * 4);
    packCamera(viewSet.frames[i].camera, cameras, i * CAMERA_STRIDE);
    widths[i] = image.width;
    heights[i] = image.height;
  });
  return { count, cameras, pixels, pixelOffsets, widths, heights };
}

/** The view holding global pixel `index` (binary search over the offsets). */
export function viewOfPixel(data: ViewData, index: number): number {
  let lo = 0, hi = data.count - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (data.pixelOffsets[mid] <= index) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
