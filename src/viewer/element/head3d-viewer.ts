import { DEFAULT_ORBIT, type Orbit, parseLod, parseOrbit, parseTarget, positiveNumber } from './attributes.js';
import { type LoadedAsset, loadAsset } from './load-asset.js';
import { type Shading, type StageStats, ViewerStage } from './stage.js';

/** `detail` of the `load` event. */
export interface ViewerLoadDetail {
  src: string;
  kind: 'mesh' | 'splats';
  triangles: number;
  splats: number;
  lods: number;
  /** Bounding-sphere radius, metres. */
  radius: number;
  /** Time from request to first frame, milliseconds. */
  ms: number;
  backend: 'webgpu' | 'webgl2';
}

/** `detail` of the `progress` event (bytes of the glb; total 0 when the server sends no length). */
export interface ViewerProgressDetail {
  src: string;
  loaded: number;
  total: number;
  /** loaded / total in [0, 1], or -1 when the total is unknown. */
  fraction: number;
}

/** `detail` of the `error` event. */
export interface ViewerErrorDetail {
  src: string;
  message: string;
  error: unknown;
}

const DEFAULT_FOV_DEG = 30;
const DEFAULT_AUTO_ROTATE_DEG_PER_S = 20;

const STYLE = `
:host { display: block; position: relative; width: 320px; height: 320px; overflow: hidden; }
.frame { position: absolute; inset: 0; background: transparent; }
canvas { display: block; width: 100%; height: 100%; touch-action: none; outline: none; }
.progress { position: absolute; left: 0; bottom: 0; height: 3px; width: 0; background: currentColor; opacity: 0.6; transition: width 0.15s; }
.progress[hidden] { display: none; }
.message { position: absolute; inset: auto 8px 8px 8px; font: 12px/1.3 system-ui, sans-serif; color: #b00020; }
`;

/**
 * `<head3d-viewer src="head.glb">`: shows a head3d export (textured mesh with optional MSFT_lod
 * levels, meshopt- or Draco-compressed, or a KHR_gaussian_splatting splat glb) with orbit controls
 * limited to sensible views of a head, studio lighting and on-demand rendering.
 *
 * Attributes: `src`; `camera-orbit="yaw pitch [distance|auto]"` (degrees, metres; yaw 0 faces the
 * subject, 90 sees their left side); `camera-target="x y z"|auto`; `field-of-view` (degrees,
 * vertical, default 30); `auto-rotate` (boolean) and `auto-rotate-speed` (degrees/s, default 20);
 * `background` (any CSS background, default transparent); `exposure` (default 1); `shading="lit"|
 * "unlit"` (unlit shows the baked texture without lights); `lod="auto"|0|1|…`.
 *
 * Events: `progress` ({@link ViewerProgressDetail}), `load` ({@link ViewerLoadDetail}), `error`
 * ({@link ViewerErrorDetail}). three.js must be resolvable as `three/webgpu`, `three/tsl` and
 * `three/addons/…` (an import map; `head3d view` writes one).
 *
 * @example
 * <script type="importmap">{"imports": {"three": "/three/build/three.webgpu.js", "three/webgpu": "/three/build/three.webgpu.js",
 *   "three/tsl": "/three/build/three.tsl.js", "three/addons/": "/three/addons/"}}</script>
 * <script type="module" src="/viewer/index.js"></script>
 * <head3d-viewer src="head.glb" auto-rotate camera-orbit="20 5 auto"></head3d-viewer>
 */
export class Head3dViewer extends HTMLElement {
  static readonly observedAttributes = [
    'src', 'camera-orbit', 'camera-target', 'field-of-view', 'auto-rotate', 'auto-rotate-speed', 'background', 'exposure', 'shading', 'lod',
  ];

  private stage: ViewerStage | undefined;
  private ready: Promise<ViewerStage> | undefined;
  private asset: LoadedAsset | undefined;
  private loadToken = 0;
  private loadedSrc: string | undefined;
  private frame!: HTMLDivElement;
  private progressBar!: HTMLDivElement;
  private message!: HTMLDivElement;
  private resizeObserver: ResizeObserver | undefined;
  private lastLoad: ViewerLoadDetail | undefined;

  get src(): string | null {
    return this.getAttribute('src');
  }

  set src(value: string | null) {
    if (value === null) this.removeAttribute('src');
    else this.setAttribute('src', value);
  }

  /** True once the current `src` is shown. */
  get loaded(): boolean {
    return this.asset !== undefined && this.loadedSrc === this.src;
  }

  /** What is shown: 'mesh', 'splats', or undefined before the first load. */
  get kind(): 'mesh' | 'splats' | undefined {
    return this.asset?.kind;
  }

  /** Frames drawn, CPU time of the last draw, triangles drawn, GPU backend. */
  get stats(): StageStats | undefined {
    return this.stage?.stats;
  }

  /** The camera's orbit now (degrees, metres). */
  get orbit(): Orbit {
    return this.stage?.getOrbit() ?? DEFAULT_ORBIT;
  }

  /** The level of detail drawn in the last frame. */
  get lodLevel(): number {
    return this.stage?.currentLod() ?? 0;
  }

  /** Resolves with the `load` detail once the current `src` is shown; rejects on its `error` event. */
  whenLoaded(): Promise<ViewerLoadDetail> {
    if (this.loaded && this.lastLoad) return Promise.resolve(this.lastLoad);
    return new Promise((resolveLoad, reject) => {
      const onLoad = (event: Event): void => {
        const detail = (event as CustomEvent<ViewerLoadDetail>).detail;
        if (detail.src !== this.src) return;
        this.removeEventListener('error', onError);
        this.removeEventListener('load', onLoad);
        resolveLoad(detail);
      };
      const onError = (event: Event): void => {
        this.removeEventListener('error', onError);
        this.removeEventListener('load', onLoad);
        reject(new Error((event as CustomEvent<ViewerErrorDetail>).detail.message));
      };
      this.addEventListener('load', onLoad);
      this.addEventListener('error', onError);
    });
  }

  /** Draws the current view now and returns it as a PNG data URL with a transparent background. */
  async snapshot(): Promise<string> {
    const stage = await this.ensureStage();
    return stage.snapshot();
  }

  connectedCallback(): void {
    if (!this.shadowRoot) this.buildShadow();
    void this.ensureStage().then(
      () => this.loadIfNeeded(),
      (error: unknown) => this.fail(this.src ?? '', error),
    );
    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(this);
  }

  disconnectedCallback(): void {
    this.resizeObserver?.disconnect();
    this.stage?.dispose();
    this.stage = undefined;
    this.ready = undefined;
    this.asset = undefined;
    this.loadedSrc = undefined;
  }

  attributeChangedCallback(name: string, previous: string | null, value: string | null): void {
    if (previous === value) return;
    if (name === 'background' && this.frame) this.frame.style.background = value ?? 'transparent';
    const stage = this.stage;
    if (!stage) return;
    switch (name) {
      case 'src':
        this.loadIfNeeded();
        break;
      case 'camera-orbit':
        stage.setOrbit(this.orbitAttribute());
        break;
      case 'camera-target':
        stage.setTarget(this.targetAttribute());
        stage.setOrbit(this.orbitAttribute());
        break;
      case 'field-of-view':
        stage.setFov(positiveNumber(value, DEFAULT_FOV_DEG, 'deg'));
        stage.setOrbit(this.orbitAttribute());
        break;
      case 'auto-rotate':
      case 'auto-rotate-speed':
        this.applyAutoRotate(stage);
        break;
      case 'exposure':
        stage.setExposure(positiveNumber(value, 1));
        break;
      case 'shading':
        stage.setShading(this.shadingAttribute());
        break;
      case 'lod':
        stage.setLod(parseLod(value));
        break;
    }
  }

  private buildShadow(): void {
    const root = this.attachShadow({ mode: 'open' });
    const style = document.createElement('style');
    style.textContent = STYLE;
    this.frame = document.createElement('div');
    this.frame.className = 'frame';
    this.frame.part.add('frame');
    this.frame.style.background = this.getAttribute('background') ?? 'transparent';
    const canvas = document.createElement('canvas');
    canvas.part.add('canvas');
    canvas.tabIndex = 0;
    this.progressBar = document.createElement('div');
    this.progressBar.className = 'progress';
    this.progressBar.part.add('progress');
    this.progressBar.hidden = true;
    this.message = document.createElement('div');
    this.message.className = 'message';
    this.message.part.add('message');
    this.frame.append(canvas);
    root.append(style, this.frame, this.progressBar, this.message);
  }

  private ensureStage(): Promise<ViewerStage> {
    if (!this.ready) {
      const canvas = this.shadowRoot!.querySelector('canvas')!;
      const stage = new ViewerStage(canvas);
      this.ready = stage.init().then(() => {
        this.stage = stage;
        this.resize();
        stage.setFov(positiveNumber(this.getAttribute('field-of-view'), DEFAULT_FOV_DEG, 'deg'));
        stage.setExposure(positiveNumber(this.getAttribute('exposure'), 1));
        stage.setShading(this.shadingAttribute());
        stage.setLod(parseLod(this.getAttribute('lod')));
        this.applyAutoRotate(stage);
        return stage;
      });
    }
    return this.ready;
  }

  private resize(): void {
    this.stage?.resize(this.clientWidth, this.clientHeight, window.devicePixelRatio || 1);
  }

  private applyAutoRotate(stage: ViewerStage): void {
    stage.setAutoRotate(this.hasAttribute('auto-rotate'), positiveNumber(this.getAttribute('auto-rotate-speed'), DEFAULT_AUTO_ROTATE_DEG_PER_S, 'deg'));
  }

  private orbitAttribute(): Orbit {
    const value = this.getAttribute('camera-orbit');
    const orbit = parseOrbit(value);
    if (!orbit && value !== null) console.warn(`head3d-viewer: ignoring camera-orbit="${value}" (expected "yaw pitch [distance|auto]")`);
    return orbit ?? DEFAULT_ORBIT;
  }

  private targetAttribute(): [number, number, number] | 'auto' {
    const value = this.getAttribute('camera-target');
    const target = parseTarget(value);
    if (!target) console.warn(`head3d-viewer: ignoring camera-target="${value}" (expected "x y z" in metres or auto)`);
    return target ?? 'auto';
  }

  private shadingAttribute(): Shading {
    return this.getAttribute('shading') === 'unlit' ? 'unlit' : 'lit';
  }

  private loadIfNeeded(): void {
    const src = this.src;
    if (!src || src === this.loadedSrc || !this.stage) return;
    const stage = this.stage;
    const token = ++this.loadToken;
    const started = performance.now();
    const url = new URL(src, document.baseURI).href;
    this.message.textContent = '';
    this.progressBar.hidden = false;
    this.progressBar.style.width = '0';
    void loadAsset(url, {
      onProgress: (loaded, total) => {
        if (token !== this.loadToken) return;
        const fraction = total > 0 ? Math.min(1, loaded / total) : -1;
        this.progressBar.style.width = `${Math.max(0, fraction) * 100}%`;
        this.dispatchEvent(new CustomEvent<ViewerProgressDetail>('progress', { detail: { src, loaded, total, fraction } }));
      },
    }).then(
      (asset) => {
        if (token !== this.loadToken) return; // a newer src is loading
        this.asset = asset;
        this.loadedSrc = src;
        stage.setAsset(asset, this.orbitAttribute(), this.targetAttribute());
        stage.snapshot(); // draw the first frame now, so `load` means "on screen"
        this.progressBar.hidden = true;
        const detail: ViewerLoadDetail = {
          src, kind: asset.kind, triangles: asset.triangles, splats: asset.splats, lods: asset.lods,
          radius: asset.bounds.radius, ms: performance.now() - started, backend: stage.stats.backend,
        };
        this.lastLoad = detail;
        this.dispatchEvent(new CustomEvent<ViewerLoadDetail>('load', { detail }));
      },
      (error: unknown) => {
        if (token === this.loadToken) this.fail(src, error);
      },
    );
  }

  private fail(src: string, error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    if (this.progressBar) this.progressBar.hidden = true;
    if (this.message) this.message.textContent = `Could not show ${src}: ${message}`;
    this.dispatchEvent(new CustomEvent<ViewerErrorDetail>('error', { detail: { src, message, error } }));
  }
}
