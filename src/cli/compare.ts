import type { Command } from 'commander';

/** Placeholder registration; the compare command is added with the metrics module. */
export function registerCompare(_program: Command): void {}
