import sharp from 'sharp';
import type { Page } from 'playwright-core';
import { writeFileAtomic } from '../../core/atomic.js';
import { Head3dError } from '../../core/errors.js';
import { startViewerServer } from '../server/server.js';
import { launchHeadlessChromium } from './chromium.js';

export interface TurntableOptions {
  /** Views around the head, evenly spaced in yaw from the front (default 12). */
  views?: number;
  /** Square size of each view in pixels (default 256). */
  size?: number;
  /** Camera pitch in degrees, positive looks down (default 5). */
  pitch?: number;
  /** Vertical field of view in degrees (default 30). */
  fov?: number;
  /** 'lit' (studio lights, default) or 'unlit' (baked texture as is). */
  shading?: 'lit' | 'unlit';
  /** Exposure (default 1). */
  exposure?: number;
}

export const TURNTABLE_DEFAULTS: Required<TurntableOptions> = { views: 12, size: 256, pitch: 5, fov: 30, shading: 'lit', exposure: 1 };

export interface TurntableFrames {
  /** One PNG (RGBA, transparent background) per view, yaw 0, 360/n, … degrees. */
  frames: Buffer[];
  yaws: number[];
  kind: 'mesh' | 'splats';
  /** Seconds: page load to first frame, and all frames. */
  seconds: { load: number; render: number };
  /** The WebGL/WebGPU renderer string Chromium reported. */
  backend: string;
}

/**
 * Renders a glb from `views` yaws with `<head3d-viewer>` in headless Chromium (the same page
 * `head3d view` serves, on a loopback server that lives for this call only).
 *
 * @example
 * const { frames } = await renderTurntable('head.glb', { views: 8, size: 320 });
 */
export async function renderTurntable(glb: string, options: TurntableOptions = {}): Promise<TurntableFrames> {
  const o = { ...TURNTABLE_DEFAULTS, ...options };
  if (!Number.isInteger(o.views) || o.views < 1 || o.views > 360) throw new Head3dError(`turntable: views must be 1..360 (got ${o.views})`);
  if (!Number.isInteger(o.size) || o.size < 16 || o.size > 4096) throw new Head3dError(`turntable: size must be 16..4096 px (got ${o.size})`);
  const attributes = { 'camera-orbit': `0 ${o.pitch} auto`, 'field-of-view': String(o.fov), shading: o.shading, exposure: String(o.exposure) };
  const server = await startViewerServer([glb], { size: { width: o.size, height: o.size }, background: 'transparent', captions: false, attributes: [attributes] });
  const browser = await launchHeadlessChromium().catch(async (error: unknown) => {
    await server.close();
    throw error;
  });
  try {
    const page = await browser.newPage({ viewport: { width: o.size, height: o.size }, deviceScaleFactor: 1 });
    const started = performance.now();
    await page.goto(server.url);
    const load = await waitForLoad(page);
    const loaded = performance.now();
    const yaws = Array.from({ length: o.views }, (_, i) => (360 * i) / o.views);
    const urls = await page.evaluate(
      async ({ yaws, pitch }) => {
        // Runs in the page (no DOM types in this Node build): the first <head3d-viewer>.
        type Viewer = { setAttribute(name: string, value: string): void; snapshot(): Promise<string> };
        const page = globalThis as unknown as { document: { querySelector(selector: string): Viewer } };
        const viewer = page.document.querySelector('head3d-viewer');
        const images: string[] = [];
        for (const yaw of yaws) {
          viewer.setAttribute('camera-orbit', `${yaw} ${pitch} auto`);
          images.push(await viewer.snapshot());
        }
        return images;
      },
      { yaws, pitch: o.pitch },
    );
    const frames = urls.map((url) => Buffer.from(url.slice(url.indexOf(',') + 1), 'base64'));
    return { frames, yaws, kind: load.kind, seconds: { load: (loaded - started) / 1000, render: (performance.now() - loaded) / 1000 }, backend: load.backend };
  } finally {
    await browser.close();
    await server.close();
  }
}

/** Waits for the page's first `load` or `error` event from `<head3d-viewer>` (see page.ts). */
export async function waitForLoad(page: Page, timeoutMs = 60_000): Promise<{ kind: 'mesh' | 'splats'; backend: string }> {
  type PageEvent = { type: string; detail: { kind: 'mesh' | 'splats'; backend: string; message?: string } };
  const handle = await page.waitForFunction(() => (globalThis as unknown as { head3dEvents?: unknown[] }).head3dEvents?.[0], undefined, { timeout: timeoutMs });
  const event = (await handle.jsonValue()) as PageEvent;
  if (event.type === 'error') throw new Head3dError(`the viewer could not show the model: ${event.detail.message}`, { hint: 'check that the file is a glb written by head3d export (or another valid glTF 2.0 binary)' });
  return event.detail;
}

export interface ContactSheetOptions {
  /** Views per row (default: ⌈√n⌉). */
  columns?: number;
  /** CSS colour behind the views, or 'transparent' (default white). */
  background?: string;
}

/** Lays frames out in a grid and writes a PNG; returns its size. */
export async function writeContactSheet(frames: Buffer[], path: string, options: ContactSheetOptions = {}): Promise<{ width: number; height: number; bytes: number }> {
  const { width: w, height: h } = await sharp(frames[0]).metadata();
  const columns = Math.max(1, Math.min(frames.length, options.columns ?? Math.ceil(Math.sqrt(frames.length))));
  const rows = Math.ceil(frames.length / columns);
  const width = columns * w!, height = rows * h!;
  const png = await sharp({ create: { width, height, channels: 4, background: sheetBackground(options.background) } })
    .composite(frames.map((input, i) => ({ input, left: (i % columns) * w!, top: Math.floor(i / columns) * h! })))
    .png()
    .toBuffer();
  await writeFileAtomic(path, png);
  return { width, height, bytes: png.byteLength };
}

/** Writes the frames as a looping animated WebP (`delayMs` per frame); returns its byte size. */
export async function writeAnimatedWebp(frames: Buffer[], path: string, options: { delayMs?: number; background?: string } = {}): Promise<number> {
  const background = sheetBackground(options.background);
  const flattened = background === TRANSPARENT ? frames : await Promise.all(frames.map((frame) => sharp(frame).flatten({ background }).png().toBuffer()));
  const webp = await sharp(flattened, { join: { animated: true } })
    .webp({ quality: 85, loop: 0, delay: frames.map(() => options.delayMs ?? 120) })
    .toBuffer();
  await writeFileAtomic(path, webp);
  return webp.byteLength;
}

const TRANSPARENT = { r: 0, g: 0, b: 0, alpha: 0 };

function sheetBackground(background: string | undefined): string | typeof TRANSPARENT {
  return background === undefined ? '#ffffff' : background === 'transparent' ? TRANSPARENT : background;
}
