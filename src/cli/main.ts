#!/usr/bin/env node
import { CommanderError } from 'commander';
import { EXIT_USAGE, isHead3dError } from '../core/errors.js';
import { createProgram } from './program.js';

async function main(argv: string[]): Promise<number> {
  try {
    await (await createProgram(argv)).parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has already printed its message (or the help / version text).
      return error.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    if (isHead3dError(error)) {
      process.stderr.write(`head3d: ${error.message}\n`);
      if (error.hint) process.stderr.write(`  hint: ${error.hint}\n`);
      return error.exitCode;
    }
    throw error; // a bug: keep the stack trace
  }
}

process.exitCode = await main(process.argv);
