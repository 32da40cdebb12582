import { closeSync, createReadStream, existsSync, openSync, readSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, extname, resolve } from 'node:path';
import { Head3dError } from '../../core/errors.js';
import { elementFiles, threeFiles, URLS } from './files.js';
import { type PageModel, type PageOptions, viewerPage } from './page.js';

/** The only interface the viewer server listens on. */
export const LOOPBACK = '127.0.0.1';

export interface ViewerServerOptions extends PageOptions {
  /** TCP port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** Extra attributes per model (same order as the assets), e.g. camera-orbit or shading. */
  attributes?: Record<string, string>[];
}

export interface ViewerServer {
  /** http://127.0.0.1:<port>/ — the page. */
  url: string;
  port: number;
  /** URL path of each asset, in the order given. */
  assetUrls: string[];
  /** Every URL path the server answers; anything else is refused. */
  routes: string[];
  close(): Promise<void>;
}

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.glb': 'model/gltf-binary',
  '.html': 'text/html; charset=utf-8',
};

const SECURITY_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
};

/** A URL-safe file name for an asset route: `<index>-<name>.glb`. */
function assetRoute(path: string, index: number): string {
  const name = basename(path).replace(/[^A-Za-z0-9._-]/g, '_');
  return `${URLS.assets}${index}-${name}`;
}

/** True when the file starts with the glb magic "glTF". */
function isBinaryGltf(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const magic = Buffer.alloc(4);
    return readSync(fd, magic, 0, 4, 0) === 4 && magic.toString('latin1') === 'glTF';
  } finally {
    closeSync(fd);
  }
}

/**
 * True for request targets that try to leave the served set through the path: dot segments
 * (plain or percent-encoded), backslashes, encoded slashes or NUL bytes.
 */
export function isTraversal(rawTarget: string): boolean {
  const path = rawTarget.split(/[?#]/, 1)[0];
  let decoded = path;
  for (let i = 0; i < 3; i++) {
    try {
      const next = decodeURIComponent(decoded);
      if (next === decoded) break;
      decoded = next;
    } catch {
      return true; // malformed escapes are refused outright
    }
  }
  return /(^|[/\\])\.\.?([/\\]|$)/.test(decoded) || decoded.includes('\\') || decoded.includes('\0') || /%2f|%5c/i.test(path);
}

/**
 * Starts the local server behind `head3d view`: bound to 127.0.0.1 only, it serves the viewer page,
 * the element's modules, the three.js files the element imports, and the given glb files — an
 * explicit allow-list; every other path is a 404, path traversal a 403, other methods a 405, and a
 * request whose Host is not this loopback address (DNS rebinding) a 421.
 *
 * @example
 * const server = await startViewerServer(['head.glb', 'head.splats.glb']);
 * console.log(server.url); // http://127.0.0.1:41234/
 */
export async function startViewerServer(assets: string[], options: ViewerServerOptions = {}): Promise<ViewerServer> {
  if (assets.length === 0) throw new Head3dError('view: no model given', { hint: 'head3d view head.glb' });
  const files = new Map<string, string>([...elementFiles(), ...threeFiles()]);
  const models: PageModel[] = [];
  const assetUrls: string[] = [];
  assets.forEach((asset, index) => {
    const path = resolve(asset);
    if (!existsSync(path)) throw new Head3dError(`model not found: ${asset}`, { hint: 'check the path' });
    if (!statSync(path).isFile()) throw new Head3dError(`not a file: ${asset}`, { hint: 'give a .glb file' });
    if (extname(path).toLowerCase() !== '.glb') throw new Head3dError(`view: ${asset} is not a .glb`, { hint: 'the viewer shows binary glTF (.glb) files, as head3d export writes them' });
    if (!isBinaryGltf(path)) throw new Head3dError(`view: ${asset} is not a binary glTF file (no "glTF" header)`, { hint: 'give a .glb written by head3d export or another glTF 2.0 tool' });
    const url = assetRoute(path, index);
    files.set(url, path);
    assetUrls.push(url);
    models.push({ src: url, label: basename(path), attributes: options.attributes?.[index] });
  });
  const page = Buffer.from(viewerPage(models, options));
  const routes = ['/', '/index.html', ...files.keys()];

  let port = 0;
  const server: Server = createServer((request, response) => handle(request, response));
  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    const refuse = (status: number, text: string): void => {
      response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS }).end(`${text}\n`);
    };
    const host = request.headers.host ?? '';
    if (host !== `${LOOPBACK}:${port}` && host !== `localhost:${port}`) return refuse(421, 'wrong host');
    if (request.method !== 'GET' && request.method !== 'HEAD') return refuse(405, 'method not allowed');
    const target = request.url ?? '/';
    if (!target.startsWith('/') || isTraversal(target)) return refuse(403, 'forbidden');
    const path = target.split(/[?#]/, 1)[0];
    if (path === '/' || path === '/index.html') {
      response.writeHead(200, { 'content-type': CONTENT_TYPES['.html'], 'content-length': page.byteLength, ...SECURITY_HEADERS });
      response.end(request.method === 'HEAD' ? undefined : page);
      return;
    }
    const file = files.get(path);
    if (!file) return refuse(404, 'not found');
    let size: number;
    try {
      size = statSync(file).size;
    } catch {
      return refuse(404, 'not found');
    }
    response.writeHead(200, { 'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': size, ...SECURITY_HEADERS });
    if (request.method === 'HEAD') {
      response.end();
      return;
    }
    createReadStream(file).on('error', () => response.destroy()).pipe(response);
  };

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') reject(new Head3dError(`port ${options.port} is in use`, { hint: 'choose another with --port, or --port 0 for any free one' }));
      else if (error.code === 'EACCES') reject(new Head3dError(`no permission to listen on port ${options.port}`, { hint: 'use a port above 1023' }));
      else reject(error);
    });
    server.listen(options.port ?? 0, LOOPBACK, () => resolveListen());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://${LOOPBACK}:${port}/`,
    port,
    assetUrls,
    routes,
    close: () =>
      new Promise<void>((resolveClose) => {
        server.closeAllConnections();
        server.close(() => resolveClose());
      }),
  };
}
