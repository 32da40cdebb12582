import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Head3dError } from '../../core/errors.js';

/** Repository (package) root: three levels above this file in both src/ and dist/. */
export const PACKAGE_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Where `npm run build` writes the element's modules. */
export const ELEMENT_DIR = resolve(PACKAGE_ROOT, 'dist/viewer/element');

/** URL prefixes of what the viewer server serves. */
export const URLS = { element: '/viewer/', three: '/three/', assets: '/assets/' } as const;

/** three.js build files the element needs (WebGPURenderer with its WebGL 2 fallback, TSL for splats). */
const THREE_BUILD = ['three.webgpu.js', 'three.core.js', 'three.tsl.js'];

/**
 * three.js addons the element imports, directly or through other addons, plus the Draco decoder
 * that DRACOLoader fetches at run time (WebAssembly build only).
 */
const THREE_ADDONS = [
  'loaders/GLTFLoader.js', 'utils/BufferGeometryUtils.js', 'utils/SkeletonUtils.js',
  'loaders/DRACOLoader.js', 'libs/draco/gltf/draco_wasm_wrapper.js', 'libs/draco/gltf/draco_decoder.wasm',
  'libs/meshopt_decoder.module.js', 'controls/OrbitControls.js',
  'loaders/GLTFGaussianSplatLoaderExtension.js', 'objects/GaussianSplat.js', 'utils/GaussianSplatUtils.js', 'gpgpu/CountingSort.js',
];

/** The import map a page needs for the element's bare `three…` imports, pointing at `threeFiles()`' URLs. */
export function importMap(): { imports: Record<string, string> } {
  const build = `${URLS.three}build/`;
  return {
    imports: {
      three: `${build}three.webgpu.js`,
      'three/webgpu': `${build}three.webgpu.js`,
      'three/tsl': `${build}three.tsl.js`,
      'three/addons/': `${URLS.three}addons/`,
    },
  };
}

function threeRoot(): string {
  const require = createRequire(import.meta.url);
  try {
    return dirname(require.resolve('three/package.json'));
  } catch {
    // three's package.json is exported; this fallback covers an unusual install layout.
    return resolve(PACKAGE_ROOT, 'node_modules/three');
  }
}

/** URL path → file for three.js's build files and the addons listed above. */
export function threeFiles(): Map<string, string> {
  const root = threeRoot();
  const files = new Map<string, string>();
  for (const file of THREE_BUILD) files.set(`${URLS.three}build/${file}`, resolve(root, 'build', file));
  for (const addon of THREE_ADDONS) files.set(`${URLS.three}addons/${addon}`, resolve(root, 'examples/jsm', addon));
  for (const [url, path] of files) {
    if (!existsSync(path)) throw new Head3dError(`three.js file missing: ${path} (for ${url})`, { hint: 'run npm ci; the viewer needs three 0.187' });
  }
  return files;
}

/** URL path → file for the element's compiled modules (dist/viewer/element/*.js). */
export function elementFiles(): Map<string, string> {
  if (!existsSync(resolve(ELEMENT_DIR, 'index.js'))) {
    throw new Head3dError(`the viewer element is not built (${ELEMENT_DIR}/index.js is missing)`, { hint: 'run npm run build' });
  }
  const files = new Map<string, string>();
  for (const name of readdirSync(ELEMENT_DIR)) if (name.endsWith('.js')) files.set(`${URLS.element}${name}`, resolve(ELEMENT_DIR, name));
  return files;
}
