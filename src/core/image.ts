import { readFile } from 'node:fs/promises';
import sharp, { type Metadata } from 'sharp';
import { Head3dError, fileError } from './errors.js';
import { writeFileAtomic } from './atomic.js';

/** An 8-bit sRGB image with straight (not premultiplied) alpha, row-major RGBA. */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8Array;
}

export function createImage(width: number, height: number): RgbaImage {
  return { width, height, data: new Uint8Array(width * height * 4) };
}

/** Largest image we accept, in pixels; sharp's own default guard is about 268 MP. */
export const MAX_INPUT_PIXELS = 100_000_000;

/**
 * Decodes any image sharp reads into RGBA8 sRGB: EXIF orientation applied; 16-bit, grayscale,
 * CMYK and palette inputs converted; an opaque alpha channel added when the input has none.
 */
export async function readImage(path: string, what = 'image'): Promise<RgbaImage> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw fileError(error, path, what);
  }
  return decodeImage(bytes, path);
}

export async function decodeImage(bytes: Uint8Array, label = 'image'): Promise<RgbaImage> {
  return decodeAt(bytes, label);
}

/** `decodeImage`, resized to `size` (Lanczos) when given: JPEG and WebP are then shrunk while they decode. */
async function decodeAt(bytes: Uint8Array, label: string, size?: { width: number; height: number }): Promise<RgbaImage> {
  try {
    let pipeline = sharp(bytes, { failOn: 'truncated', limitInputPixels: MAX_INPUT_PIXELS }).rotate();
    if (size) pipeline = pipeline.resize(size.width, size.height, { fit: 'fill', kernel: 'lanczos3' });
    const { data, info } = await pipeline
      .toColourspace('srgb')
      .ensureAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 4) throw new Error(`unexpected channel count ${info.channels}`);
    return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  } catch (error) {
    throw imageError(error, label);
  }
}

/**
 * A picture that can be had at any size up to its own: `atMost(side)` gives the whole picture with
 * its longer side at most `side` pixels (never enlarged). Reading a 12–50 MP photo at the 1,280
 * pixels a face detector needs costs a fraction of decoding it whole: JPEG and WebP are shrunk
 * while they are decoded.
 */
export interface ScalableImage {
  /** Full size, after EXIF orientation. */
  width: number;
  height: number;
  atMost(side: number): Promise<RgbaImage>;
}

/** Size of an image's longer side scaled to at most `side`, rounded, at least 1 px each way. */
export function fitWithin(width: number, height: number, side: number): { width: number; height: number } {
  const scale = Math.min(1, side / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/** A decoded image as a ScalableImage (smaller sizes resampled by `resizeImage`). */
export function scalableImage(image: RgbaImage): ScalableImage {
  return {
    width: image.width,
    height: image.height,
    atMost: async (side) => {
      const size = fitWithin(image.width, image.height, side);
      return size.width === image.width && size.height === image.height ? image : resizeImage(image, size.width, size.height);
    },
  };
}

/**
 * An encoded image (any format sharp reads) as a ScalableImage, converted as `decodeImage` does.
 * Reads the header only; each size is decoded when asked for (the full size once, then kept).
 */
export async function scalableImageFromBytes(bytes: Uint8Array, label = 'image'): Promise<ScalableImage> {
  let header: Metadata;
  try {
    header = await sharp(bytes, { limitInputPixels: MAX_INPUT_PIXELS }).metadata();
  } catch (error) {
    throw imageError(error, label);
  }
  const [storedWidth, storedHeight] = [header.width ?? 0, header.height ?? 0];
  if (storedWidth * storedHeight === 0) await decodeImage(bytes, label); // throws the specific error
  // EXIF orientations 5–8 turn the picture a quarter: width and height swap.
  const turned = (header.orientation ?? 1) >= 5;
  const [width, height] = turned ? [storedHeight, storedWidth] : [storedWidth, storedHeight];
  // Each size is decoded once: a caller may start a decode early (while models load) and use it later.
  const decoded = new Map<string, Promise<RgbaImage>>();
  return {
    width,
    height,
    atMost: (side) => {
      const size = fitWithin(width, height, side);
      const key = `${size.width}x${size.height}`;
      let image = decoded.get(key);
      if (!image) decoded.set(key, (image = decodeAt(bytes, label, size.width === width && size.height === height ? undefined : size)));
      return image;
    },
  };
}

function imageError(error: unknown, label: string): Error {
  const message = error instanceof Error ? error.message : String(error);
  if (/unsupported image format|Input buffer contains unsupported/i.test(message)) {
    return new Head3dError(`${label} is not an image head3d can read`, { hint: 'use a PNG, JPEG, WebP or TIFF file' });
  }
  if (/pixel limit/i.test(message)) {
    return new Head3dError(`${label} is larger than ${MAX_INPUT_PIXELS / 1e6} megapixels`, { hint: 'downscale the image first' });
  }
  if (/empty/i.test(message)) return new Head3dError(`${label} is empty`, { hint: 'use a PNG, JPEG, WebP or TIFF file' });
  if (/premature|truncat|corrupt|end of|invalid|bad|error/i.test(message)) {
    return new Head3dError(`${label} is damaged or truncated (${message.split('\n')[0].trim()})`, {
      hint: 'export the image again or use another copy',
    });
  }
  return error instanceof Error ? error : new Error(message);
}

export async function encodePng(image: RgbaImage): Promise<Buffer> {
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: 4 } })
    .png({ compressionLevel: 6 })
    .toBuffer();
}

export async function writePng(path: string, image: RgbaImage): Promise<void> {
  await writeFileAtomic(path, await encodePng(image));
}

/** Resamples an image with sharp (Lanczos for shrinking); alpha is resampled premultiplied. */
export async function resizeImage(image: RgbaImage, width: number, height: number): Promise<RgbaImage> {
  const { data, info } = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 4 } })
    .resize(width, height, { fit: 'fill', kernel: 'lanczos3' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}
