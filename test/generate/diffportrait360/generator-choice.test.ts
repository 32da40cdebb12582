import { describe, expect, it } from 'vitest';
import { resolveGenerator } from '../../../src/build/generator-choice.js';

describe('generator choice with DiffPortrait360', () => {
  it('picks diffportrait360 for auto when a bundle is configured, by option or HEAD3D_MODELS', () => {
    expect(resolveGenerator('auto', { env: {} }).generator).toBe('proxy');
    expect(resolveGenerator('auto', { models: '/b', env: {} })).toMatchObject({ generator: 'diffportrait360', models: '/b' });
    expect(resolveGenerator('auto', { env: { HEAD3D_MODELS: '/env' } })).toMatchObject({ generator: 'diffportrait360', models: '/env' });
    expect(resolveGenerator('diffportrait360', { models: '/b', env: { HEAD3D_MODELS: '/env' } }).models).toBe('/b');
    expect(resolveGenerator('proxy', { models: '/b', env: {} }).generator).toBe('proxy');
    expect(resolveGenerator('auto', { views: 'v', models: '/b', env: {} }).generator).toBe('import');
  });

  it('refuses diffportrait360 without a bundle', () => {
    expect(() => resolveGenerator('diffportrait360', { env: {} })).toThrow(/needs a model bundle/);
  });
});
