import { describe, expect, it } from 'vitest';
import { Head3dError } from '../../src/core/errors.js';
import { parseObj } from '../../src/eval/obj.js';

describe('parseObj', () => {
  it('triangulates polygons, resolves negative indices and flips v into glTF convention', () => {
    const obj = parseObj([
      '# a unit square as one quad',
      'mtllib square.mtl',
      'v 0 0 0', 'v 1 0 0', 'v 1 1 0', 'v 0 1 0',
      'vt 0 0', 'vt 1 0', 'vt 1 1', 'vt 0 1',
      'vn 0 0 1',
      'f 1/1/1 2/2/1 3/3/1 -1/-1/1',
    ].join('\n'));
    expect(Array.from(obj.indices)).toEqual([0, 1, 2, 0, 2, 3]);
    expect(Array.from(obj.positions)).toEqual([0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 1, 0]);
    expect(Array.from(obj.uvs!)).toEqual([0, 1, 1, 1, 1, 0, 0, 0]);
    expect(obj.materialLibrary).toBe('square.mtl');
  });

  it('shares vertices between faces and keeps positions without UVs', () => {
    const obj = parseObj('v 0 0 0\nv 1 0 0\nv 0 1 0\nv 1 1 0\nf 1 2 3\nf 2 4 3\n');
    expect(obj.positions.length / 3).toBe(4);
    expect(obj.uvs).toBeNull();
  });

  it('reports the line of a malformed entry', () => {
    expect(() => parseObj('v 0 0 0\nv 1 0\n')).toThrow(/:2: a vertex needs three numbers/);
    expect(() => parseObj('v 0 0 0\nf 1 2 3\n')).toThrow(/face index "2" is out of range/);
    expect(() => parseObj('# nothing\n')).toThrow(Head3dError);
  });
});
