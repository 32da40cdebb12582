/**
 * The `<head3d-viewer>` custom element (three.js is its one dependency, resolved through an import
 * map). Importing this module registers the element once.
 *
 * @example
 * <script type="module" src="/viewer/index.js"></script>
 * <head3d-viewer src="head.glb" auto-rotate></head3d-viewer>
 */
import { Head3dViewer } from './head3d-viewer.js';

export { Head3dViewer };
export type { ViewerErrorDetail, ViewerLoadDetail, ViewerProgressDetail } from './head3d-viewer.js';
export type { Orbit } from './attributes.js';

if (!customElements.get('head3d-viewer')) customElements.define('head3d-viewer', Head3dViewer);

declare global {
  interface HTMLElementTagNameMap {
    'head3d-viewer': Head3dViewer;
  }
}
