import { spawn } from 'node:child_process';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Head3dError } from '../../core/errors.js';

/** Extensions `--views` treats as a video (anything ffmpeg reads would do; these are the usual ones). */
export const VIDEO_EXTENSIONS = new Set(['.mp4', '.mov', '.m4v', '.mkv', '.webm', '.avi', '.gif']);

export interface DecodeVideoOptions {
  /** The ffmpeg executable (default: HEAD3D_FFMPEG, else `ffmpeg` on the PATH). */
  ffmpeg?: string;
  /** Frame file name pattern, printf-style as ffmpeg takes it (default `frame_%03d.png`, numbered from 0). */
  pattern?: string;
}

export const DECODE_VIDEO_DEFAULTS = { pattern: 'frame_%03d.png' };

/** The ffmpeg to run: the option, else HEAD3D_FFMPEG, else `ffmpeg` from the PATH. */
export function ffmpegCommand(option?: string, env: NodeJS.ProcessEnv = process.env): string {
  return option ?? env.HEAD3D_FFMPEG ?? 'ffmpeg';
}

/**
 * Decodes every frame of a video into PNGs in `outDir` (no frame dropped or duplicated, whatever
 * the frame rate) with the system's ffmpeg, and returns their names in order. head3d ships no
 * video decoder: on Debian/Ubuntu `apt-get install ffmpeg` provides one. A missing ffmpeg or an
 * undecodable file is a Head3dError.
 *
 * @example
 * const frames = await decodeVideoFrames('result.mp4', 'work/views/frames'); // ['frame_000.png', …]
 */
export async function decodeVideoFrames(video: string, outDir: string, options: DecodeVideoOptions = {}): Promise<string[]> {
  const ffmpeg = ffmpegCommand(options.ffmpeg);
  const pattern = options.pattern ?? DECODE_VIDEO_DEFAULTS.pattern;
  await mkdir(outDir, { recursive: true });
  const args = ['-nostdin', '-v', 'error', '-y', '-i', video, '-vsync', '0', '-start_number', '0', '-pix_fmt', 'rgb24', join(outDir, pattern)];
  const { code, stderr, missing } = await run(ffmpeg, args);
  if (missing) {
    throw new Head3dError(`decoding ${video} needs ffmpeg, which was not found (${ffmpeg})`, {
      hint: 'install it (Debian/Ubuntu: apt-get install ffmpeg), set HEAD3D_FFMPEG to its path, or pass a folder of the 32 frames',
    });
  }
  if (code !== 0) {
    const reason = stderr.trim().split('\n').pop() ?? `exit code ${code}`;
    throw new Head3dError(`ffmpeg could not decode ${video}: ${reason}`, { hint: 'check that the file is a complete video, or pass a folder of its frames' });
  }
  const prefix = pattern.slice(0, pattern.indexOf('%'));
  const suffix = pattern.slice(pattern.lastIndexOf('d') + 1);
  return (await readdir(outDir)).filter((name) => name.startsWith(prefix) && name.endsWith(suffix)).sort();
}

function run(command: string, args: string[]): Promise<{ code: number | null; stderr: string; missing: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'EACCES') resolve({ code: null, stderr, missing: true });
      else reject(error);
    });
    child.on('close', (code) => resolve({ code, stderr, missing: false }));
  });
}
