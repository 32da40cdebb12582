import { Head3dError } from '../../core/errors.js';
import type { SplatCloud } from './splat-cloud.js';

/**
 * The per-splat float properties we write, in the Inria 3D Gaussian Splatting order (degree-0
 * colour only, so no f_rest_*): position, normal (zero), f_dc, opacity as a logit, log scales,
 * rotation as w x y z.
 */
export const PLY_PROPERTIES = [
  'x', 'y', 'z', 'nx', 'ny', 'nz', 'f_dc_0', 'f_dc_1', 'f_dc_2', 'opacity', 'scale_0', 'scale_1', 'scale_2', 'rot_0', 'rot_1', 'rot_2', 'rot_3',
] as const;

/**
 * Encodes splats as a binary little-endian .ply in the Inria layout that splat viewers and
 * trainers read (log scales, logit opacity, wxyz quaternions). Coordinates stay in the glTF frame
 * (metres, +Y up), not COLMAP's y-down camera frame.
 */
export function encodePly(cloud: SplatCloud): Uint8Array {
  const header =
    'ply\nformat binary_little_endian 1.0\ncomment head3d Gaussian splats (metres, +Y up, face toward +Z)\n' +
    `element vertex ${cloud.count}\n` +
    PLY_PROPERTIES.map((p) => `property float ${p}\n`).join('') +
    'end_header\n';
  const head = new TextEncoder().encode(header);
  const stride = PLY_PROPERTIES.length;
  const body = new Float32Array(cloud.count * stride);
  for (let i = 0; i < cloud.count; i++) {
    const o = i * stride;
    body.set(cloud.positions.subarray(i * 3, i * 3 + 3), o);
    body.set(cloud.sh0.subarray(i * 3, i * 3 + 3), o + 6);
    const a = Math.min(1 - 1e-7, Math.max(1e-7, cloud.opacities[i]));
    body[o + 9] = Math.log(a / (1 - a));
    for (let k = 0; k < 3; k++) body[o + 10 + k] = Math.log(Math.max(1e-30, cloud.scales[i * 3 + k]));
    body[o + 13] = cloud.rotations[i * 4 + 3];
    body[o + 14] = cloud.rotations[i * 4];
    body[o + 15] = cloud.rotations[i * 4 + 1];
    body[o + 16] = cloud.rotations[i * 4 + 2];
  }
  const out = new Uint8Array(head.length + body.byteLength);
  out.set(head);
  out.set(new Uint8Array(body.buffer), head.length);
  return out;
}

/**
 * Decodes a binary little-endian Gaussian-splat .ply (any float property order; extra properties
 * such as f_rest_* are skipped) into a SplatCloud with linear scales and opacities.
 */
export function decodePly(bytes: Uint8Array, label = 'splat .ply'): SplatCloud {
  const fail = (why: string): never => {
    throw new Head3dError(`${label} is not a Gaussian-splat .ply (${why})`);
  };
  const text = new TextDecoder('latin1').decode(bytes.subarray(0, Math.min(bytes.length, 64 * 1024)));
  const end = text.indexOf('end_header\n');
  if (!text.startsWith('ply\n') || end < 0) fail('no ply header');
  const lines = text.slice(0, end).split('\n');
  if (!lines.includes('format binary_little_endian 1.0')) fail('only binary_little_endian is supported');
  let count = -1;
  const properties: string[] = [];
  for (const line of lines) {
    const words = line.trim().split(/\s+/);
    if (words[0] === 'element') {
      if (words[1] !== 'vertex' || count >= 0) fail('expected a single vertex element');
      count = Number(words[2]);
    } else if (words[0] === 'property') {
      if (words[1] !== 'float' && words[1] !== 'float32') fail(`property ${words[2]} is ${words[1]}, not float`);
      properties.push(words[2]);
    }
  }
  if (!(count >= 0)) fail('no vertex count');
  const column = (name: string): number => {
    const index = properties.indexOf(name);
    if (index < 0) fail(`missing property ${name}`);
    return index;
  };
  const stride = properties.length;
  const dataStart = end + 'end_header\n'.length;
  if (bytes.length < dataStart + count * stride * 4) fail('file is truncated');
  const data = new Float32Array(bytes.slice(dataStart, dataStart + count * stride * 4).buffer);
  const cols = {
    x: column('x'), y: column('y'), z: column('z'),
    dc: [column('f_dc_0'), column('f_dc_1'), column('f_dc_2')],
    opacity: column('opacity'),
    scale: [column('scale_0'), column('scale_1'), column('scale_2')],
    rot: [column('rot_0'), column('rot_1'), column('rot_2'), column('rot_3')],
  };
  const cloud: SplatCloud = {
    count,
    positions: new Float32Array(count * 3),
    scales: new Float32Array(count * 3),
    rotations: new Float32Array(count * 4),
    opacities: new Float32Array(count),
    sh0: new Float32Array(count * 3),
  };
  for (let i = 0; i < count; i++) {
    const row = i * stride;
    cloud.positions.set([data[row + cols.x], data[row + cols.y], data[row + cols.z]], i * 3);
    for (let k = 0; k < 3; k++) {
      cloud.sh0[i * 3 + k] = data[row + cols.dc[k]];
      cloud.scales[i * 3 + k] = Math.exp(data[row + cols.scale[k]]);
    }
    cloud.opacities[i] = 1 / (1 + Math.exp(-data[row + cols.opacity]));
    // wxyz on disk, xyzw in memory.
    cloud.rotations.set([data[row + cols.rot[1]], data[row + cols.rot[2]], data[row + cols.rot[3]], data[row + cols.rot[0]]], i * 4);
  }
  return cloud;
}
