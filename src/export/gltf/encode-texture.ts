import sharp from 'sharp';
import type { RgbaImage } from '../../core/image.js';

export type TextureFormat = 'png' | 'webp';

export interface EncodedTexture {
  bytes: Uint8Array;
  mimeType: 'image/png' | 'image/webp';
}

export interface EncodeTextureOptions {
  /** WebP quality 1–100 (default 90); ignored for PNG, which is lossless. */
  quality?: number;
  /** Keep the alpha channel (default false: the base colour is opaque, RGB is smaller). */
  alpha?: boolean;
}

/** Encodes a texture as PNG (lossless) or WebP (lossy, for `EXT_texture_webp`) with sharp. */
export async function encodeTexture(image: RgbaImage, format: TextureFormat, options: EncodeTextureOptions = {}): Promise<EncodedTexture> {
  let pipeline = sharp(image.data, { raw: { width: image.width, height: image.height, channels: 4 } });
  if (!options.alpha) pipeline = pipeline.removeAlpha();
  if (format === 'png') return { bytes: new Uint8Array(await pipeline.png({ compressionLevel: 6 }).toBuffer()), mimeType: 'image/png' };
  return { bytes: new Uint8Array(await pipeline.webp({ quality: options.quality ?? 90, effort: 4 }).toBuffer()), mimeType: 'image/webp' };
}
