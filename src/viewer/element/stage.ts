import {
  LinearSRGBColorSpace, type Material, Mesh, MeshBasicMaterial, NeutralToneMapping, NoToneMapping, type Object3D,
  PerspectiveCamera, Scene, SRGBColorSpace, Sphere, Vector3, WebGPURenderer,
} from 'three/webgpu';
import { OrbitControls } from 'three/addons/controls/OrbitControls.js';
import { DEFAULT_ORBIT, type Orbit } from './attributes.js';
import { createStudioLights } from './lighting.js';
import type { LoadedAsset } from './load-asset.js';
import { setLodDistances } from './msft-lod.js';

/** Orbit limits around a head: no panning, no looking straight up the neck or down on the crown. */
export const HEAD_LIMITS = {
  /** Polar angle range from +Y, degrees (pitch −65° … +70°). */
  minPolarDeg: 20,
  maxPolarDeg: 155,
  /** Zoom range as multiples of the framing distance. */
  minZoom: 0.45,
  maxZoom: 3,
  /** Margin around the bounding sphere when framing. */
  framingMargin: 1.08,
} as const;

export type Shading = 'lit' | 'unlit';

/** Renderer statistics for benchmarks: frames drawn and CPU time of the last draw call. */
export interface StageStats {
  frames: number;
  lastRenderMs: number;
  triangles: number;
  backend: 'webgpu' | 'webgl2';
}

/**
 * The three.js side of `<head3d-viewer>`: a WebGPURenderer (WebGL 2 fallback where WebGPU is
 * absent; three's Gaussian splats need this renderer), a camera with head-suited OrbitControls,
 * studio lights, and an on-demand render loop (frames are drawn only when something changed).
 */
export class ViewerStage {
  readonly renderer: WebGPURenderer;
  readonly scene = new Scene();
  readonly camera = new PerspectiveCamera(30, 1, 0.01, 100);
  readonly controls: OrbitControls;
  private asset: LoadedAsset | undefined;
  private readonly lights = createStudioLights();
  private readonly target = new Vector3();
  private framingDistance = 0.6;
  private dirtyFrames = 1;
  private lastTime: number | undefined;
  private shading: Shading = 'lit';
  private exposure = 1;
  private readonly originalMaterials = new Map<Mesh, Material | Material[]>();
  private forcedLod: number | 'auto' = 'auto';
  readonly stats: StageStats = { frames: 0, lastRenderMs: 0, triangles: 0, backend: 'webgl2' };
  /** Called after each drawn frame. */
  onRender: (() => void) | undefined;

  constructor(readonly canvas: HTMLCanvasElement) {
    this.renderer = new WebGPURenderer({ canvas, antialias: true, alpha: true });
    this.renderer.setClearColor(0x000000, 0);
    this.controls = new OrbitControls(this.camera, canvas);
    this.controls.enablePan = false;
    this.controls.enableDamping = true;
    this.controls.dampingFactor = 0.12;
    this.controls.minPolarAngle = (HEAD_LIMITS.minPolarDeg * Math.PI) / 180;
    this.controls.maxPolarAngle = (HEAD_LIMITS.maxPolarDeg * Math.PI) / 180;
    this.controls.addEventListener('change', () => this.invalidate());
    this.scene.add(this.lights);
    this.applyLook();
  }

  /** Initialises the GPU backend; call once before anything is drawn. */
  async init(): Promise<void> {
    await this.renderer.init();
    const backend = (this.renderer as unknown as { backend: { isWebGPUBackend?: boolean } }).backend;
    this.stats.backend = backend.isWebGPUBackend ? 'webgpu' : 'webgl2';
    this.renderer.setAnimationLoop((time: number) => this.tick(time));
  }

  /** Replaces the displayed asset and frames it; the previous one is disposed. */
  setAsset(asset: LoadedAsset, orbit: Orbit, target: [number, number, number] | 'auto'): void {
    if (this.asset) {
      this.scene.remove(this.asset.root);
      disposeObject(this.asset.root);
    }
    this.originalMaterials.clear();
    this.asset = asset;
    this.scene.add(asset.root);
    this.lights.visible = asset.kind === 'mesh';
    this.setTarget(target);
    this.applyShading();
    this.applyLook();
    this.applyLod();
    this.setOrbit(orbit);
  }

  /** Orbit target: a point in metres, or 'auto' for the model's bounding-sphere centre. */
  setTarget(target: [number, number, number] | 'auto'): void {
    const bounds = this.asset?.bounds ?? new Sphere(new Vector3(), 0.15);
    if (target === 'auto') this.target.copy(bounds.center);
    else this.target.set(...target);
    this.updateFraming();
  }

  /** Vertical field of view in degrees. */
  setFov(fovDeg: number): void {
    this.camera.fov = Math.min(120, Math.max(1, fovDeg));
    this.camera.updateProjectionMatrix();
    this.updateFraming();
    this.invalidate();
  }

  /** Moves the camera to an orbit around the target (distance 'auto' frames the model). */
  setOrbit(orbit: Orbit): void {
    const distance = orbit.distance === 'auto' ? this.framingDistance : orbit.distance;
    if (orbit.distance !== 'auto') {
      this.controls.minDistance = Math.min(this.controls.minDistance, distance);
      this.controls.maxDistance = Math.max(this.controls.maxDistance, distance);
    }
    const yaw = (orbit.yaw * Math.PI) / 180, pitch = (orbit.pitch * Math.PI) / 180;
    const offset = new Vector3(Math.cos(pitch) * Math.sin(yaw), Math.sin(pitch), Math.cos(pitch) * Math.cos(yaw)).multiplyScalar(distance);
    this.controls.target.copy(this.target);
    this.camera.position.copy(this.target).add(offset);
    this.camera.up.set(0, 1, 0);
    this.camera.lookAt(this.target);
    this.updateClipPlanes(distance);
    // Orbit limits must not fight an explicit pose: widen them to include it.
    const polar = Math.PI / 2 - pitch;
    this.controls.minPolarAngle = Math.min(this.controls.minPolarAngle, polar);
    this.controls.maxPolarAngle = Math.max(this.controls.maxPolarAngle, polar);
    this.controls.update();
    this.invalidate();
  }

  /** The camera's current orbit (yaw, pitch in degrees; distance in metres). */
  getOrbit(): Orbit {
    const offset = this.camera.position.clone().sub(this.controls.target);
    const distance = offset.length();
    return {
      yaw: (Math.atan2(offset.x, offset.z) * 180) / Math.PI,
      pitch: (Math.asin(Math.min(1, Math.max(-1, offset.y / distance))) * 180) / Math.PI,
      distance,
    };
  }

  setAutoRotate(on: boolean, degreesPerSecond: number): void {
    this.controls.autoRotate = on;
    // OrbitControls: speed 1 is one turn per 60 s when given a delta time.
    this.controls.autoRotateSpeed = degreesPerSecond / 6;
    this.invalidate();
  }

  setExposure(exposure: number): void {
    this.exposure = exposure;
    this.applyLook();
  }

  setShading(shading: Shading): void {
    this.shading = shading;
    this.applyShading();
    this.applyLook();
  }

  /** Forces a level of detail, or 'auto' for distance-based switching. */
  setLod(level: number | 'auto'): void {
    this.forcedLod = level;
    this.applyLod();
  }

  /** The level of detail drawn in the last frame (0 when the model has no LODs). */
  currentLod(): number {
    let level = 0;
    this.asset?.root.traverse((object) => {
      const lod = object as Object3D & { isLOD?: boolean; getCurrentLevel?: () => number };
      if (lod.isLOD && lod.getCurrentLevel) level = Math.max(level, lod.getCurrentLevel());
    });
    return level;
  }

  /** Sets the drawing-buffer size in CSS pixels (× devicePixelRatio, at most 2). */
  resize(width: number, height: number, pixelRatio: number): void {
    if (width <= 0 || height <= 0) return;
    this.renderer.setPixelRatio(Math.min(2, Math.max(1, pixelRatio)));
    this.renderer.setSize(width, height, false);
    this.camera.aspect = width / height;
    this.camera.updateProjectionMatrix();
    this.invalidate();
  }

  /** Asks for a redraw on the next animation frame (two for splats: the first frame re-sorts). */
  invalidate(): void {
    this.dirtyFrames = Math.max(this.dirtyFrames, this.asset?.kind === 'splats' ? 2 : 1);
  }

  /** Draws now and returns the canvas as a PNG data URL (transparent background). */
  snapshot(): string {
    this.controls.update();
    this.draw();
    if (this.asset?.kind === 'splats') this.draw();
    return this.canvas.toDataURL('image/png');
  }

  dispose(): void {
    this.renderer.setAnimationLoop(null);
    this.controls.dispose();
    if (this.asset) disposeObject(this.asset.root);
    this.renderer.dispose();
  }

  private tick(time: number): void {
    const dt = this.lastTime === undefined ? 1 / 60 : Math.min(0.1, (time - this.lastTime) / 1000);
    this.lastTime = time;
    const moved = this.controls.update(dt);
    if (moved) this.invalidate();
    if (this.dirtyFrames > 0) {
      this.dirtyFrames--;
      this.draw();
    }
  }

  /**
   * The studio rig turns about the vertical with the camera's orbit, so every side of the head is
   * seen as the front is: with lights fixed in the world, the back of a head is lit by the sky fill
   * alone and reads dark and yellow-green (a brown palette went from 148,131,89 unlit to 97,82,39).
   */
  private turnLightsWithCamera(): void {
    const offset = this.camera.position.clone().sub(this.controls.target);
    this.lights.rotation.y = Math.atan2(offset.x, offset.z);
    this.lights.updateMatrixWorld(true);
  }

  private draw(): void {
    // renderer.info resets once per animation frame, not per render: count this draw's share.
    const info = (this.renderer.info as unknown as { render: { triangles: number } }).render;
    const trianglesBefore = info.triangles;
    const start = performance.now();
    this.turnLightsWithCamera();
    this.renderer.render(this.scene, this.camera);
    this.stats.lastRenderMs = performance.now() - start;
    this.stats.frames++;
    this.stats.triangles = info.triangles - trianglesBefore;
    this.onRender?.();
  }

  private updateFraming(): void {
    const bounds = this.asset?.bounds ?? new Sphere(new Vector3(), 0.15);
    const radius = bounds.radius + bounds.center.distanceTo(this.target);
    const halfFov = (this.camera.fov * Math.PI) / 360;
    const halfFovX = Math.atan(Math.tan(halfFov) * Math.min(1, this.camera.aspect));
    this.framingDistance = (radius / Math.sin(Math.min(halfFov, halfFovX))) * HEAD_LIMITS.framingMargin;
    this.controls.minDistance = Math.max(bounds.radius * 1.2, this.framingDistance * HEAD_LIMITS.minZoom);
    this.controls.maxDistance = this.framingDistance * HEAD_LIMITS.maxZoom;
    this.controls.minPolarAngle = (HEAD_LIMITS.minPolarDeg * Math.PI) / 180;
    this.controls.maxPolarAngle = (HEAD_LIMITS.maxPolarDeg * Math.PI) / 180;
    if (this.asset) setLodDistances(this.asset.root, bounds.radius, this.camera.fov);
  }

  private updateClipPlanes(distance: number): void {
    const radius = this.asset?.bounds.radius ?? 0.15;
    this.camera.near = Math.max(0.001, (distance - 4 * radius) * 0.5, radius * 0.02);
    this.camera.far = distance + 10 * radius + this.controls.maxDistance;
    this.camera.updateProjectionMatrix();
  }

  /** Colour pipeline per content: lit meshes tone-mapped to sRGB, unlit meshes plain sRGB, splats as stored. */
  private applyLook(): void {
    const splats = this.asset?.kind === 'splats';
    // three 0.187 ignores KHR_gaussian_splatting's colorSpace and blends SH colours as linear; our
    // splats are "srgb_rec709_display", so their blended values are written out unchanged.
    this.renderer.outputColorSpace = splats ? LinearSRGBColorSpace : SRGBColorSpace;
    this.renderer.toneMapping = splats || this.shading === 'unlit' ? NoToneMapping : NeutralToneMapping;
    this.renderer.toneMappingExposure = this.exposure;
    this.invalidate();
  }

  /** Unlit shading shows the baked base colour exactly (MeshBasicMaterial); lit restores the glb's PBR materials. */
  private applyShading(): void {
    if (!this.asset || this.asset.kind !== 'mesh') return;
    this.asset.root.traverse((object) => {
      const mesh = object as Mesh;
      if (!(mesh as { isMesh?: boolean }).isMesh) return;
      if (!this.originalMaterials.has(mesh)) this.originalMaterials.set(mesh, mesh.material);
      const original = this.originalMaterials.get(mesh)!;
      mesh.material = this.shading === 'lit' ? original : Array.isArray(original) ? original.map(toBasic) : toBasic(original);
    });
    this.lights.visible = this.shading === 'lit' && this.asset.kind === 'mesh';
    this.invalidate();
  }

  private applyLod(): void {
    this.asset?.root.traverse((object) => {
      const lod = object as Object3D & { isLOD?: boolean; autoUpdate?: boolean; levels?: { object: Object3D }[] };
      if (!lod.isLOD || !lod.levels) return;
      lod.autoUpdate = this.forcedLod === 'auto';
      if (this.forcedLod !== 'auto') {
        const chosen = Math.min(this.forcedLod, lod.levels.length - 1);
        lod.levels.forEach((level, i) => (level.object.visible = i === chosen));
        (lod as unknown as { _currentLevel: number })._currentLevel = chosen;
      }
    });
    this.invalidate();
  }
}

const basicCache = new WeakMap<Material, MeshBasicMaterial>();

function toBasic(material: Material): MeshBasicMaterial {
  let basic = basicCache.get(material);
  if (!basic) {
    const source = material as Material & { map?: MeshBasicMaterial['map']; color?: MeshBasicMaterial['color'] };
    basic = new MeshBasicMaterial({ map: source.map ?? null, side: material.side, transparent: material.transparent, opacity: material.opacity });
    if (source.color) basic.color.copy(source.color);
    basicCache.set(material, basic);
  }
  return basic;
}

function disposeObject(root: Object3D): void {
  root.traverse((object) => {
    const mesh = object as Mesh;
    if (!(mesh as { isMesh?: boolean }).isMesh) return;
    mesh.geometry?.dispose();
    const materials = Array.isArray(mesh.material) ? mesh.material : [mesh.material];
    for (const material of materials) {
      for (const value of Object.values(material)) if (value && typeof value === 'object' && 'isTexture' in value) (value as { dispose(): void }).dispose();
      material.dispose();
    }
  });
}
