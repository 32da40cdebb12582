/**
 * Parsing of `<head3d-viewer>` attribute values. Pure functions: a malformed value gives `undefined`
 * (the element then keeps its default and reports the problem once on the console).
 */

/** Where the camera sits around its target: yaw and pitch in degrees, distance in metres or 'auto'. */
export interface Orbit {
  /** Degrees around +Y; 0 looks at the face (camera on +Z), 90 sees the subject's left side (camera on +X). */
  yaw: number;
  /** Degrees above the horizontal (positive looks down on the head). */
  pitch: number;
  /** Metres from the target, or 'auto' to frame the model. */
  distance: number | 'auto';
}

export const DEFAULT_ORBIT: Orbit = { yaw: 0, pitch: 5, distance: 'auto' };

/** Parses `camera-orbit="yaw pitch [distance]"`, e.g. "30 10 auto", "30deg 10deg 0.8m". */
export function parseOrbit(value: string | null): Orbit | undefined {
  if (value === null || value.trim() === '') return undefined;
  const parts = value.trim().split(/\s+/);
  if (parts.length < 2 || parts.length > 3) return undefined;
  const yaw = parseNumber(parts[0], 'deg');
  const pitch = parseNumber(parts[1], 'deg');
  const distance = parts[2] === undefined || parts[2] === 'auto' ? 'auto' : parseNumber(parts[2], 'm');
  if (yaw === undefined || pitch === undefined || distance === undefined) return undefined;
  if (distance !== 'auto' && distance <= 0) return undefined;
  return { yaw, pitch, distance };
}

/** Parses `camera-target="x y z"` (metres) or 'auto'. */
export function parseTarget(value: string | null): [number, number, number] | 'auto' | undefined {
  if (value === null || value.trim() === '' || value.trim() === 'auto') return 'auto';
  const parts = value.trim().split(/\s+/).map((p) => parseNumber(p, 'm'));
  if (parts.length !== 3 || parts.some((p) => p === undefined)) return undefined;
  return parts as [number, number, number];
}

/** A finite number with an optional unit suffix ("12", "12deg", "0.5m"). */
export function parseNumber(text: string, unit: string): number | undefined {
  const stripped = unit !== '' && text.endsWith(unit) ? text.slice(0, -unit.length) : text;
  if (stripped.trim() === '') return undefined;
  const n = Number(stripped);
  return Number.isFinite(n) ? n : undefined;
}

/** A positive number attribute, or the fallback when absent or malformed. */
export function positiveNumber(value: string | null, fallback: number, unit = ''): number {
  if (value === null) return fallback;
  const n = parseNumber(value.trim(), unit);
  return n !== undefined && n > 0 ? n : fallback;
}

/** `lod="auto" | "0" | "1" | …`: a fixed level of detail, or automatic switching. */
export function parseLod(value: string | null): number | 'auto' {
  if (value === null || value === 'auto') return 'auto';
  const n = Number(value);
  return Number.isInteger(n) && n >= 0 ? n : 'auto';
}
