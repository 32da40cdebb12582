/**
 * Headless Chromium for render tests: a launcher with the flags from docs/dependencies.md §8 and a
 * loopback HTTP server that serves an explicit allow-list of files (three.js, addons, assets, pages).
 *
 * Chromium is a hard requirement where these helpers are used: CI installs it, so a missing
 * browser is an error with instructions, never a skipped test.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Debian's chromium package; override with HEAD3D_CHROMIUM for another build. */
export const CHROMIUM_PATH = process.env.HEAD3D_CHROMIUM || '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--disable-gpu',
];

/**
 * Launches headless Chromium (Playwright adds --headless itself; passing it here breaks the
 * launch). `chromium.launch` runs the browser on a fresh temporary profile that Playwright deletes
 * on close, so no state leaks between runs. WebGL 2 comes from SwiftShader.
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH}. The browser render tests need it: install it with ` +
        '`apt-get install -y chromium` (Debian) or point HEAD3D_CHROMIUM at a Chromium binary.',
    );
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}

/** A route serves a file from disk, or an in-memory body (a generated HTML page, say). */
export type Route = string | { body: string | Uint8Array; type?: string };
export type Routes = Record<string, Route>;

export interface StaticServer {
  /** Base URL without trailing slash, e.g. http://127.0.0.1:41234 */
  url: string;
  close(): Promise<void>;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.glb': 'model/gltf-binary',
  '.gltf': 'model/gltf+json',
  '.bin': 'application/octet-stream',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.webp': 'image/webp',
  '.wasm': 'application/wasm',
};

function contentType(path: string): string {
  return CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * Serves exactly the URL paths in `routes` on 127.0.0.1 (an ephemeral port); anything else is a
 * 404, so a page cannot reach files it was not given. Paths are matched without the query string.
 */
export async function serveFiles(routes: Routes): Promise<StaticServer> {
  for (const [urlPath, route] of Object.entries(routes)) {
    if (!urlPath.startsWith('/')) throw new Error(`route "${urlPath}" must start with "/"`);
    if (typeof route === 'string' && !existsSync(route)) throw new Error(`route ${urlPath}: file not found: ${route}`);
  }
  const server = createServer((request, response) => {
    const urlPath = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
    const route = Object.hasOwn(routes, urlPath) ? routes[urlPath] : undefined;
    if (!route || (request.method !== 'GET' && request.method !== 'HEAD')) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end(`not served: ${urlPath}`);
      return;
    }
    const send = (body: string | Uint8Array, type: string): void => {
      response.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' });
      response.end(request.method === 'HEAD' ? undefined : body);
    };
    if (typeof route === 'string') {
      readFile(route).then(
        (bytes) => send(bytes, contentType(route)),
        (error: unknown) => response.writeHead(500, { 'content-type': 'text/plain' }).end(String(error)),
      );
    } else {
      send(route.body, route.type ?? contentType(urlPath));
    }
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolveListen());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolveClose) => {
        server.closeAllConnections();
        server.close(() => resolveClose());
      }),
  };
}

/** URL prefix under which `threeRoutes` serves three.js; the import map points here. */
export const THREE_URL = '/three';

/**
 * Routes for three.js's module build and the named addons (paths under examples/jsm, e.g.
 * 'loaders/GLTFLoader.js'), served at /three/build/… and /three/addons/… to match `importMap()`.
 * GLTFLoader needs its own imports listed too: utils/BufferGeometryUtils.js, utils/SkeletonUtils.js.
 */
export function threeRoutes(addons: string[] = []): Routes {
  const root = resolve(REPO_ROOT, 'node_modules/three');
  const routes: Routes = {
    [`${THREE_URL}/build/three.module.js`]: resolve(root, 'build/three.module.js'),
    [`${THREE_URL}/build/three.core.js`]: resolve(root, 'build/three.core.js'),
  };
  for (const addon of addons) routes[`${THREE_URL}/addons/${addon}`] = resolve(root, 'examples/jsm', addon);
  return routes;
}

/** GLTFLoader and the addon modules it imports. */
export const GLTF_LOADER_ADDONS = ['loaders/GLTFLoader.js', 'utils/BufferGeometryUtils.js', 'utils/SkeletonUtils.js'];

/** An import map resolving `three` and `three/addons/…` to `threeRoutes`' URLs. */
export function importMap(): string {
  const map = { imports: { three: `${THREE_URL}/build/three.module.js`, 'three/addons/': `${THREE_URL}/addons/` } };
  return `<script type="importmap">${JSON.stringify(map)}</script>`;
}

/** A minimal HTML page with the three import map and one inline module script. */
export function modulePage(moduleSource: string, title = 'head3d test'): string {
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${title}</title><link rel="icon" href="data:,">
${importMap()}
</head><body style="margin:0;background:transparent">
<script type="module">
${moduleSource}
</script>
</body></html>`;
}

/**
 * Collects uncaught page errors and console errors so a failing test can show them; call
 * `check()` to throw if any occurred.
 */
export function watchPageErrors(page: Page): { errors: string[]; check(): void } {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console.error: ${message.text()}`);
  });
  page.on('requestfailed', (request) => {
    // three's FileLoader re-streams fetch bodies through its own reader, which Chromium reports as
    // net::ERR_ABORTED even though the load succeeds; a real failure rejects the loader's promise.
    const reason = request.failure()?.errorText ?? 'unknown';
    if (reason !== 'net::ERR_ABORTED') errors.push(`request failed: ${request.url()} (${reason})`);
  });
  page.on('response', (response) => {
    if (response.status() >= 400 && !response.url().endsWith('/favicon.ico')) errors.push(`HTTP ${response.status()}: ${response.url()}`);
  });
  return {
    errors,
    check() {
      if (errors.length > 0) throw new Error(`browser page reported errors:\n  ${errors.join('\n  ')}`);
    },
  };
}
