import { importMap, URLS } from './files.js';

/** One `<head3d-viewer>` on a page. */
export interface PageModel {
  /** URL of the glb as the page requests it. */
  src: string;
  /** Caption under the viewer (the file name, say). */
  label: string;
  /** Extra attributes for the element, e.g. {'auto-rotate': '', 'camera-orbit': '20 5 auto'}. */
  attributes?: Record<string, string>;
}

export interface PageOptions {
  title?: string;
  /** Fixed viewer size in CSS pixels; default: fill the window, side by side. */
  size?: { width: number; height: number };
  /** Page background (CSS), default a neutral dark grey. */
  background?: string;
  /** Show captions and load statistics (default true). */
  captions?: boolean;
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/**
 * The page `head3d view` serves: one `<head3d-viewer>` per model, side by side (a mesh and its
 * splats, say), each with a caption that reports its load statistics or its error.
 *
 * @example
 * viewerPage([{ src: '/assets/0-head.glb', label: 'head.glb' }, { src: '/assets/1-head.splats.glb', label: 'head.splats.glb' }]);
 */
export function viewerPage(models: PageModel[], options: PageOptions = {}): string {
  const captions = options.captions ?? true;
  const size = options.size;
  const cell = size ? `width:${size.width}px;height:${size.height}px` : 'width:100%;height:100%';
  const viewers = models
    .map((model, i) => {
      const attributes = Object.entries(model.attributes ?? {})
        .map(([name, value]) => (value === '' ? ` ${escapeHtml(name)}` : ` ${escapeHtml(name)}="${escapeHtml(value)}"`))
        .join('');
      const caption = captions ? `<figcaption><b>${escapeHtml(model.label)}</b> <span id="status-${i}">loading…</span></figcaption>` : '';
      return `<figure><head3d-viewer id="viewer-${i}" src="${escapeHtml(model.src)}" style="${cell}"${attributes}></head3d-viewer>${caption}</figure>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(options.title ?? 'head3d viewer')}</title><link rel="icon" href="data:,">
<script type="importmap">${JSON.stringify(importMap())}</script>
<script type="module" src="${URLS.element}index.js"></script>
<style>
  html, body { margin: 0; height: 100%; background: ${options.background ?? '#2b2d31'}; color: #e8e8e8; font: 14px/1.4 system-ui, sans-serif; }
  main { display: flex; gap: 8px; height: ${size ? 'auto' : '100%'}; box-sizing: border-box; padding: ${size ? 0 : 8}px; }
  figure { margin: 0; flex: 1 1 0; display: flex; flex-direction: column; min-width: 0; }
  head3d-viewer { flex: 1 1 auto; min-height: 0; }
  figcaption { padding: 4px 2px; font-size: 12px; opacity: 0.85; }
</style></head>
<body><main>
${viewers}
</main>
<script type="module">
const events = (window.head3dEvents = []);
for (const viewer of document.querySelectorAll('head3d-viewer')) {
  for (const type of ['load', 'error']) viewer.addEventListener(type, (e) => events.push({ type, id: viewer.id, detail: { ...e.detail, error: undefined } }));
  const status = document.getElementById('status-' + viewer.id.split('-')[1]);
  viewer.addEventListener('progress', (e) => { if (status && e.detail.fraction >= 0) status.textContent = 'loading ' + Math.round(e.detail.fraction * 100) + '%'; });
  viewer.addEventListener('load', (e) => {
    const d = e.detail;
    const what = d.kind === 'splats' ? d.splats.toLocaleString() + ' Gaussians' : Math.round(d.triangles).toLocaleString() + ' triangles, ' + d.lods + ' LOD' + (d.lods > 1 ? 's' : '');
    if (status) status.textContent = what + ' · ' + d.backend + ' · ' + Math.round(d.ms) + ' ms';
  });
  viewer.addEventListener('error', (e) => { if (status) status.textContent = 'error: ' + e.detail.message; });
}
</script>
</body></html>`;
}
