import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { Output } from '../core/output.js';

const packageJson = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

export interface GlobalOptions {
  json?: boolean;
  quiet?: boolean;
}

/** The Output a subcommand should use, from the program's global flags. */
export function outputFor(command: Command): Output {
  let root = command;
  while (root.parent) root = root.parent;
  return new Output(root.opts<GlobalOptions>());
}

type Register = (program: Command) => void;

/** Every subcommand, in help order: the names it registers and how to load its module. */
const COMMANDS: { names: string[]; load: () => Promise<Register> }[] = [
  { names: ['render-views'], load: async () => (await import('./render-views.js')).registerRenderViews },
  { names: ['compare'], load: async () => (await import('./compare.js')).registerCompare },
  { names: ['fit'], load: async () => (await import('./fit.js')).registerFit },
  { names: ['render', 'eval'], load: async () => (await import('./field-commands.js')).registerFieldCommands },
  { names: ['preprocess'], load: async () => (await import('./preprocess.js')).registerPreprocess },
  { names: ['generate'], load: async () => (await import('./generate.js')).registerGenerate },
  { names: ['models'], load: async () => (await import('./models.js')).registerModels },
  { names: ['build'], load: async () => (await import('./build.js')).registerBuild },
  { names: ['export'], load: async () => (await import('./export.js')).registerExport },
  { names: ['doctor'], load: async () => (await import('./doctor.js')).registerDoctor },
  { names: ['view'], load: async () => (await import('./view.js')).registerView },
  { names: ['turntable'], load: async () => (await import('./turntable.js')).registerTurntable },
];

/** The program for `argv` (process.argv: node, script, arguments), with its subcommands registered. */
export async function createProgram(argv: string[]): Promise<Command> {
  const program = new Command('head3d')
    .description('One portrait photo to a 3D head: views, radiance field, glTF.')
    .version(packageJson.version, '-V, --version')
    .option('--json', 'print machine-readable JSON on stdout')
    .option('-q, --quiet', 'no progress output')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  // Only the named subcommand's module is loaded (each pulls in its own heavy dependencies:
  // sharp, glTF-Transform, the face models); help, an unknown command or none loads them all.
  const named = argv.slice(2).find((arg) => !arg.startsWith('-'));
  const wanted = COMMANDS.find((command) => named !== undefined && command.names.includes(named));
  const registers = await Promise.all((wanted ? [wanted] : COMMANDS).map((command) => command.load()));
  for (const register of registers) register(program);
  for (const command of program.commands) command.exitOverride().showHelpAfterError('(run with --help for usage)');
  return program;
}
