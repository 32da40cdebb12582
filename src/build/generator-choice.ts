import { Head3dError } from '../core/errors.js';

export type GeneratorChoice = 'auto' | 'diffportrait360' | 'proxy' | 'import';
export const GENERATORS: GeneratorChoice[] = ['auto', 'diffportrait360', 'proxy', 'import'];

/** The generator that will actually run, and a line saying why (for `auto`). */
export interface ResolvedGenerator {
  generator: 'proxy' | 'import' | 'diffportrait360';
  /** The DiffPortrait360 bundle (diffportrait360 only). */
  models?: string;
  note?: string;
}

/**
 * Picks the view generator: `auto` is the DiffPortrait360 bundle when one is configured
 * (`models`, else the HEAD3D_MODELS environment variable), the embedded proxy otherwise, and
 * `import` whenever views are given.
 */
export function resolveGenerator(choice: string, options: { models?: string; views?: string; env?: NodeJS.ProcessEnv } = {}): ResolvedGenerator {
  if (!(GENERATORS as string[]).includes(choice)) {
    throw new Head3dError(`--generator must be ${GENERATORS.join(', ')}, not "${choice}"`);
  }
  const models = options.models ?? (options.env ?? process.env).HEAD3D_MODELS;
  if (choice === 'import' || (choice === 'auto' && options.views)) {
    if (!options.views) throw new Head3dError('--generator import needs --views <dir|transforms.json>', { hint: 'pass the views to fit, or use --generator proxy' });
    return { generator: 'import' };
  }
  if (options.views) throw new Head3dError(`--views is only used by the import generator, not ${choice}`, { hint: 'drop --views, or use --generator import' });
  if (choice === 'diffportrait360' || (choice === 'auto' && models)) {
    if (!models) throw new Head3dError('--generator diffportrait360 needs a model bundle', { hint: 'pass --models <bundle> or set HEAD3D_MODELS (head3d models convert makes one), or use --generator proxy' });
    return { generator: 'diffportrait360', models, note: choice === 'auto' ? `generator: DiffPortrait360 with the bundle ${models}` : undefined };
  }
  return {
    generator: 'proxy',
    note: choice === 'auto' ? 'generator: embedded proxy (no weights); DiffPortrait360 views need a model bundle via --models or HEAD3D_MODELS' : undefined,
  };
}
