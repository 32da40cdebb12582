import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { Head3dError } from '../../core/errors.js';

/** Where we look for a Chromium build, in order (HEAD3D_CHROMIUM first when set). */
export const CHROMIUM_CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'];

/**
 * Flags from docs/dependencies.md §8: no sandbox (containers), no background traffic. WebGL 2 then
 * comes from the GPU when there is one and from SwiftShader otherwise; `--enable-unsafe-webgpu` is
 * left out on purpose, so three's WebGPURenderer uses its WebGL 2 backend (WebGPU on SwiftShader
 * renders splats blank).
 */
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

/** The Chromium executable to use, or a Head3dError that says how to get one. */
export function findChromium(): string {
  const candidates = process.env.HEAD3D_CHROMIUM ? [process.env.HEAD3D_CHROMIUM] : CHROMIUM_CANDIDATES;
  const found = candidates.find((path) => existsSync(path));
  if (!found) {
    throw new Head3dError(`no Chromium found (looked for ${candidates.join(', ')})`, {
      hint: 'install it (Debian: apt-get install chromium) or set HEAD3D_CHROMIUM to a Chromium or Chrome binary',
    });
  }
  return found;
}

/**
 * Launches headless Chromium through playwright-core (loaded on demand, so commands that never
 * render do not need it). Playwright adds `--headless` itself and deletes its temporary profile on close.
 */
export async function launchHeadlessChromium(options: { gpu?: boolean } = {}): Promise<Browser> {
  const executablePath = findChromium();
  let playwright: typeof import('playwright-core');
  try {
    playwright = await import('playwright-core');
  } catch (error) {
    throw new Head3dError('playwright-core is not installed; headless rendering needs it', { hint: 'npm install playwright-core', cause: error });
  }
  const args = options.gpu ? CHROMIUM_ARGS : [...CHROMIUM_ARGS, '--disable-gpu'];
  return playwright.chromium.launch({ executablePath, args });
}
