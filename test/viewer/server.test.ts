/**
 * The `head3d view` server, probed with real HTTP requests on 127.0.0.1: it serves the page, the
 * element's modules, three's files and the one asset; it refuses path traversal (raw, percent- and
 * double-encoded, backslashes), every other file (even next to the asset), other methods and
 * foreign Host headers; and it listens on loopback only.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Head3dError } from '../../src/core/errors.js';
import { type ViewerServer, isTraversal, startViewerServer } from '../../src/viewer/server/server.js';

let dir: string;
let server: ViewerServer;
const GLB = Buffer.from('glTF fake glb bytes for the server test');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'head3d-view-server-'));
  await writeFile(join(dir, 'head.glb'), GLB);
  await writeFile(join(dir, 'secret.txt'), 'do not serve');
  await writeFile(join(dir, 'other.glb'), 'not given on the command line');
  server = await startViewerServer([join(dir, 'head.glb')]);
});
afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

/** A raw request: the path goes on the wire exactly as given (no URL normalisation). */
function get(path: string, options: { method?: string; host?: string } = {}): Promise<{ status: number; type: string; body: Buffer }> {
  return new Promise((resolveRequest, reject) => {
    const req = request(
      { host: '127.0.0.1', port: server.port, path, method: options.method ?? 'GET', headers: options.host ? { host: options.host } : undefined },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolveRequest({ status: response.statusCode ?? 0, type: String(response.headers['content-type']), body: Buffer.concat(chunks) }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('head3d view server', () => {
  it('serves the page, the element, three.js, the Draco decoder and the asset', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await get('/');
    expect(page.status).toBe(200);
    expect(page.type).toContain('text/html');
    expect(page.body.toString()).toContain(`<head3d-viewer id="viewer-0" src="${server.assetUrls[0]}"`);
    expect(page.body.toString()).toContain('"three/webgpu":"/three/build/three.webgpu.js"');
    for (const path of ['/viewer/index.js', '/viewer/head3d-viewer.js', '/three/build/three.webgpu.js', '/three/addons/loaders/GLTFLoader.js']) {
      const response = await get(path);
      expect(response.status, path).toBe(200);
      expect(response.type, path).toContain('text/javascript');
    }
    expect((await get('/three/addons/libs/draco/gltf/draco_decoder.wasm')).type).toBe('application/wasm');
    const asset = await get(server.assetUrls[0]);
    expect(asset.status).toBe(200);
    expect(asset.body.equals(GLB)).toBe(true);
    expect((await get(`${server.assetUrls[0]}?v=2`)).status).toBe(200);
    expect((await get(server.assetUrls[0], { method: 'HEAD' })).body.length).toBe(0);
  });

  it('refuses path traversal with 403', async () => {
    const attempts = [
      '/assets/../secret.txt', '/../../etc/passwd', '/assets/..%2fsecret.txt', '/%2e%2e/%2e%2e/etc/passwd', '/assets/%252e%252e%252fsecret.txt',
      '/viewer/..\\..\\package.json', '/three/addons/../../../package.json', '/assets/0-head.glb/../../secret.txt', '/assets/%2e%2e%5csecret.txt', '/viewer/%00index.js',
    ];
    for (const path of attempts) expect((await get(path)).status, path).toBe(403);
    expect(isTraversal('/assets/0-head.glb')).toBe(false);
    expect(isTraversal('/a/.../b')).toBe(false);
  });

  it('refuses every other file, method and host', async () => {
    for (const path of ['/secret.txt', '/assets/other.glb', '/assets/0-other.glb', '/package.json', '/node_modules/three/package.json', '/three/build/three.cjs',
      '/three/addons/loaders/OBJLoader.js', '/viewer/index.js.map', '/viewer/stage.d.ts', `/assets/${dir}/head.glb`, '/etc/passwd', '/favicon.ico']) {
      const response = await get(path);
      expect(response.status, path).toBe(404);
      expect(response.body.toString()).not.toContain('do not serve');
    }
    expect((await get('/', { method: 'POST' })).status).toBe(405);
    expect((await get('/', { method: 'PUT' })).status).toBe(405);
    expect((await get('/', { host: 'evil.example:80' })).status).toBe(421);
    expect((await get('/', { host: `localhost:${server.port}` })).status).toBe(200);
  });

  it('listens on 127.0.0.1 only', async () => {
    const external = Object.values(networkInterfaces()).flat().filter((a) => a && !a.internal && a.family === 'IPv4').map((a) => a!.address);
    for (const address of [...external, '::1']) {
      const outcome = await new Promise<string>((resolveConnect) => {
        const socket = connect({ host: address, port: server.port });
        socket.once('connect', () => { socket.destroy(); resolveConnect('connected'); });
        socket.once('error', (error: NodeJS.ErrnoException) => resolveConnect(error.code ?? 'error'));
      });
      expect(outcome, address).not.toBe('connected');
    }
  });

  it('refuses missing or non-glb assets and a busy port with a Head3dError', async () => {
    await expect(startViewerServer([join(dir, 'nope.glb')])).rejects.toThrow(Head3dError);
    await expect(startViewerServer([join(dir, 'secret.txt')])).rejects.toThrow(/not a \.glb/);
    await expect(startViewerServer([dir])).rejects.toThrow(/not a file/);
    await expect(startViewerServer([join(dir, 'other.glb')])).rejects.toThrow(/not a binary glTF/);
    await expect(startViewerServer([join(dir, 'head.glb')], { port: server.port })).rejects.toThrow(/in use/);
  });
});
