import { describe, expect, it } from 'vitest';
import {
  PANOHEAD_FOCAL, cameraCentre, lookAt, opencvToOpengl, openglToOpencv, orbitPose, panoheadOrbit, projectPoint,
} from '../../src/core/camera.js';
import { invertAffine4, multiply4 } from '../../src/core/mat4.js';

const close = (a: number[], b: number[], digits = 12) => a.forEach((v, i) => expect(v).toBeCloseTo(b[i], digits));

describe('PanoHead orbit', () => {
  const orbit = panoheadOrbit({ size: 512 });

  it('has 32 frames on a sphere of radius 2.7 with normalised focal 4.2647', () => {
    expect(orbit).toHaveLength(32);
    for (const camera of orbit) expect(Math.hypot(...cameraCentre(camera))).toBeCloseTo(2.7, 12);
    expect(orbit[0].intrinsics).toEqual({ fx: PANOHEAD_FOCAL * 512, fy: PANOHEAD_FOCAL * 512, cx: 256, cy: 256, width: 512, height: 512 });
  });

  it('frame 0 is frontal: cam2world = diag(1,-1,-1), t = (0,0,2.7) in OpenCV axes', () => {
    close(orbit[0].cam2world, [1, 0, 0, 0, 0, -1, 0, 0, 0, 0, -1, 2.7, 0, 0, 0, 1]);
  });

  it('matches the closed form of §4.2 for every frame', () => {
    orbit.forEach((camera, k) => {
      const a = (2 * Math.PI * k) / 32;
      const s = Math.sin(a), c = Math.cos(a);
      close(camera.cam2world, [c, 0, -s, 2.7 * s, 0, -1, 0, 0, -s, 0, -c, 2.7 * c, 0, 0, 0, 1]);
    });
  });

  it('frame 8 sees the subject from +X: the face (+Z) appears on the image left', () => {
    const nose = projectPoint(orbit[8], [0, 0, 0.2]);
    expect(nose.u).toBeLessThan(256);
    const top = projectPoint(orbit[0], [0, 0.2, 0]);
    expect(top.v).toBeLessThan(256); // +Y up in the world is up in the image
  });

  it('projects the origin to the principal point and a point one focal-unit off to the right place', () => {
    const p = projectPoint(orbit[0], [0.1, 0, 0]);
    expect(p.depth).toBeCloseTo(2.7, 12);
    expect(p.u).toBeCloseTo(256 + (PANOHEAD_FOCAL * 512 * 0.1) / 2.7, 9);
  });

  it('elevated rings look down on the head from above', () => {
    const ring = panoheadOrbit({ elevationDeg: 20 });
    expect(cameraCentre(ring[0])[1]).toBeCloseTo(2.7 * Math.sin((20 * Math.PI) / 180), 12);
    const centre = projectPoint(ring[5], [0, 0, 0]);
    expect(centre.u).toBeCloseTo(256, 9);
    expect(centre.v).toBeCloseTo(256, 9);
  });
});

describe('axis conventions', () => {
  it('OpenCV ↔ OpenGL flips the camera y and z axes and is its own inverse', () => {
    const c2w = orbitPose(0.7, 0.3);
    const gl = opencvToOpengl(c2w);
    // OpenGL cameras look down -z: the OpenCV forward axis is the negated GL z column.
    for (const r of [0, 1, 2]) {
      expect(gl[r * 4 + 2]).toBeCloseTo(-c2w[r * 4 + 2], 15);
      expect(gl[r * 4 + 1]).toBeCloseTo(-c2w[r * 4 + 1], 15);
      expect(gl[r * 4 + 3]).toBe(c2w[r * 4 + 3]);
    }
    close(openglToOpencv(gl), c2w, 15);
  });

  it('lookAt gives an orthonormal, right-handed rotation', () => {
    const m = lookAt([1, 2, 3], [0, 0.1, 0]);
    const product = multiply4(m, invertAffine4(m));
    close(product, [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], 12);
    const x = [m[0], m[4], m[8]], y = [m[1], m[5], m[9]], z = [m[2], m[6], m[10]];
    const cross = [x[1] * y[2] - x[2] * y[1], x[2] * y[0] - x[0] * y[2], x[0] * y[1] - x[1] * y[0]];
    close(cross, z, 12);
  });
});
