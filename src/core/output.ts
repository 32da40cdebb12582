/**
 * How a command talks to the person or program that ran it: human lines on stderr (progress) and
 * stdout (results), or one JSON document on stdout with `--json`. `--quiet` drops progress only.
 */
export interface OutputOptions {
  json?: boolean;
  quiet?: boolean;
}

export class Output {
  readonly json: boolean;
  readonly quiet: boolean;
  private readonly isTty: boolean;
  private lastProgressLength = 0;

  constructor(options: OutputOptions = {}, private readonly stdout = process.stdout, private readonly stderr = process.stderr) {
    this.json = options.json ?? false;
    this.quiet = options.quiet ?? false;
    this.isTty = Boolean(stderr.isTTY);
  }

  /** A progress line: rewritten in place on a terminal, one line per call when piped, none when quiet or JSON. */
  progress(message: string): void {
    if (this.quiet || this.json) return;
    if (this.isTty) {
      const padded = message.padEnd(this.lastProgressLength);
      this.stderr.write(`\r${padded}`);
      this.lastProgressLength = message.length;
    } else {
      this.stderr.write(`${message}\n`);
    }
  }

  /** Ends an in-place progress line so the next output starts on a fresh line. */
  endProgress(): void {
    if (this.isTty && this.lastProgressLength > 0 && !this.quiet && !this.json) this.stderr.write('\n');
    this.lastProgressLength = 0;
  }

  /** The command's result: `text` for people, `data` for `--json`. */
  result(text: string, data: unknown): void {
    this.endProgress();
    if (this.json) this.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
    else if (text !== '') this.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }
}

/** "1m 05s", "12.3s", "450ms". */
export function formatDuration(seconds: number): string {
  if (seconds < 1) return `${Math.round(seconds * 1000)}ms`;
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes}m ${String(Math.round(seconds - minutes * 60)).padStart(2, '0')}s`;
}
