import { Head3dError } from '../core/errors.js';

export type GeneratorChoice = 'auto' | 'diffportrait360' | 'proxy' | 'import';
export const GENERATORS: GeneratorChoice[] = ['auto', 'diffportrait360', 'proxy', 'import'];

/** The generator that will actually run, and a line saying why (for `auto`). */
export interface ResolvedGenerator {
  generator: 'proxy' | 'import';
  note?: string;
}

/**
 * Picks the view generator: `auto` is the DiffPortrait360 bundle when one is configured
 * (`models`, else the HEAD3D_MODELS environment variable), the embedded proxy otherwise, and
 * `import` whenever views are given. The DiffPortrait360 generator is not part of this version.
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
    throw new Head3dError('the DiffPortrait360 generator is not available in this version of head3d', {
      hint: `use --generator proxy (the embedded weight-free generator)${models ? ', or unset --models/HEAD3D_MODELS' : ''}`,
    });
  }
  return {
    generator: 'proxy',
    note: choice === 'auto' ? 'generator: embedded proxy (no weights); DiffPortrait360 views, when available, will need a model bundle via --models or HEAD3D_MODELS' : undefined,
  };
}
