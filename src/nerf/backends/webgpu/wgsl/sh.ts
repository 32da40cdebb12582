import { f32 } from './common.js';

/**
 * WGSL statements writing the real SH basis of unit direction `d` (a vec3<f32>) up to `degree`
 * into `target(i)` (an lvalue-producing template), same order and constants as field/sh.ts.
 */
export function shWgsl(degree: number, target: (i: number) => string): string {
  const lines = [`${target(0)} = ${f32(0.28209479177387814)};`];
  if (degree > 1) {
    lines.push(
      `${target(1)} = ${f32(-0.48860251190291987)} * d.y;`,
      `${target(2)} = ${f32(0.48860251190291987)} * d.z;`,
      `${target(3)} = ${f32(-0.48860251190291987)} * d.x;`,
    );
  }
  if (degree > 2) {
    lines.push(
      'let xy = d.x * d.y; let yz = d.y * d.z; let xz = d.x * d.z; let xx = d.x * d.x; let yy = d.y * d.y; let zz = d.z * d.z;',
      `${target(4)} = ${f32(1.0925484305920792)} * xy;`,
      `${target(5)} = ${f32(-1.0925484305920792)} * yz;`,
      `${target(6)} = ${f32(0.94617469575755997)} * zz - ${f32(0.31539156525251999)};`,
      `${target(7)} = ${f32(-1.0925484305920792)} * xz;`,
      `${target(8)} = ${f32(0.54627421529603959)} * (xx - yy);`,
    );
  }
  if (degree > 3) {
    lines.push(
      `${target(9)} = ${f32(0.59004358992664352)} * d.y * (-3.0 * xx + yy);`,
      `${target(10)} = ${f32(2.8906114426405538)} * xy * d.z;`,
      `${target(11)} = ${f32(0.45704579946446572)} * d.y * (1.0 - 5.0 * zz);`,
      `${target(12)} = ${f32(0.3731763325901154)} * d.z * (5.0 * zz - 3.0);`,
      `${target(13)} = ${f32(0.45704579946446572)} * d.x * (1.0 - 5.0 * zz);`,
      `${target(14)} = ${f32(1.4453057213202769)} * d.z * (xx - yy);`,
      `${target(15)} = ${f32(0.59004358992664352)} * d.x * (-xx + 3.0 * yy);`,
    );
  }
  if (degree > 4) throw new Error(`SH degree ${degree} is above 4`);
  return lines.join('\n  ');
}
