import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { Output } from '../core/output.js';
import { registerRenderViews } from './render-views.js';
import { registerCompare } from './compare.js';
import { registerFit } from './fit.js';
import { registerFieldCommands } from './field-commands.js';
import { registerPreprocess } from './preprocess.js';
import { registerBuild } from './build.js';
import { registerExport } from './export.js';
import { registerDoctor } from './doctor.js';
import { registerView } from './view.js';
import { registerTurntable } from './turntable.js';

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

export function createProgram(): Command {
  const program = new Command('head3d')
    .description('One portrait photo to a 3D head: views, radiance field, glTF.')
    .version(packageJson.version, '-V, --version')
    .option('--json', 'print machine-readable JSON on stdout')
    .option('-q, --quiet', 'no progress output')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerRenderViews(program);
  registerCompare(program);
  registerFit(program);
  registerFieldCommands(program);
  registerPreprocess(program);
  registerBuild(program);
  registerExport(program);
  registerDoctor(program);
  registerView(program);
  registerTurntable(program);
  for (const command of program.commands) command.exitOverride().showHelpAfterError('(run with --help for usage)');
  return program;
}
