import { spawn } from 'node:child_process';
import { type Command, InvalidArgumentError } from 'commander';
import { Head3dError } from '../core/errors.js';
import { startViewerServer } from '../viewer/server/server.js';
import { outputFor } from './program.js';

interface ViewCliOptions {
  port: number;
  open?: boolean;
  autoRotate?: boolean;
  unlit?: boolean;
}

/** A TCP port, 0 meaning "any free port". */
export function portNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number 0..65535 (0 picks a free one).');
  return n;
}

/** Opens `url` in the desktop's browser, best effort: a failure is reported, never fatal. */
function openBrowser(url: string, warn: (message: string) => void): void {
  const [command, args] =
    process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '""', url]] : ['xdg-open', [url]];
  try {
    const child = spawn(command, args as string[], { detached: true, stdio: 'ignore' });
    child.on('error', () => warn(`could not start ${command}; open ${url} yourself`));
    child.unref();
  } catch {
    warn(`could not start ${command}; open ${url} yourself`);
  }
}

/**
 * `head3d view head.glb [more.glb] [--port N] [--open]`: serves `<head3d-viewer>` pages for one or
 * two glbs (side by side, e.g. a mesh and its splats) on 127.0.0.1 until interrupted.
 */
export function registerView(program: Command): void {
  program
    .command('view')
    .description('show glb files in <head3d-viewer> on a local web page (127.0.0.1 only; two files side by side)')
    .argument('<glb...>', 'one or two .glb files, e.g. head.glb head.splats.glb')
    .option('--port <n>', 'port on 127.0.0.1 (0: any free port)', portNumber, 0)
    .option('--open', 'open the page in the default browser')
    .option('--auto-rotate', 'turn the heads slowly')
    .option('--unlit', 'show meshes without lights (the baked texture as is)')
    .action(async (glbs: string[], options: ViewCliOptions, command: Command) => {
      const out = outputFor(command);
      if (glbs.length > 2) throw new Head3dError(`view: at most two models side by side (got ${glbs.length})`, { hint: 'head3d view head.glb head.splats.glb' });
      const attributes: Record<string, string> = {};
      if (options.autoRotate) attributes['auto-rotate'] = '';
      if (options.unlit) attributes.shading = 'unlit';
      const server = await startViewerServer(glbs, { port: options.port, attributes: glbs.map(() => attributes), title: `head3d · ${glbs.join(' · ')}` });
      out.result(`head3d viewer: ${server.url}  (Ctrl-C to stop)`, { url: server.url, port: server.port, assets: server.assetUrls });
      if (options.open) openBrowser(server.url, (message) => process.stderr.write(`head3d: ${message}\n`));
      await new Promise<void>((resolveStop) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          void server.close().then(resolveStop);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}
