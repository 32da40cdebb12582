import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../core/atomic.js';

/** What stage.json remembers about one finished stage. */
export interface StageEntry {
  /** Hash of the stage's input files and options. */
  key: string;
  /** Output files, relative to the work directory (or absolute); the stage reruns if one is missing. */
  outputs: string[];
  seconds: number;
  /** Facts for the summary (PSNR, triangle counts…), replayed when the stage is skipped. */
  facts: Record<string, unknown>;
  finished: string;
}

/** `<work>/stage.json`: one entry per finished stage. */
export class StageRecord {
  private constructor(readonly workDir: string, private readonly entries: Record<string, StageEntry>) {}

  static async open(workDir: string): Promise<StageRecord> {
    const path = join(workDir, 'stage.json');
    let entries: Record<string, StageEntry> = {};
    if (existsSync(path)) {
      try {
        const parsed = JSON.parse(await readFile(path, 'utf8')) as { stages?: Record<string, StageEntry> };
        entries = parsed.stages ?? {};
      } catch {
        entries = {}; // an unreadable record only means every stage runs again
      }
    }
    return new StageRecord(workDir, entries);
  }

  /** The entry if it was made with this key and all its outputs still exist. */
  upToDate(stage: string, key: string): StageEntry | undefined {
    const entry = this.entries[stage];
    if (!entry || entry.key !== key) return undefined;
    return entry.outputs.every((file) => existsSync(resolve(this.workDir, file))) ? entry : undefined;
  }

  async save(stage: string, entry: Omit<StageEntry, 'finished'>): Promise<void> {
    this.entries[stage] = { ...entry, finished: new Date().toISOString() };
    await writeFileAtomic(join(this.workDir, 'stage.json'), `${JSON.stringify({ version: 1, stages: this.entries }, null, 2)}\n`);
  }

  async forget(stage: string): Promise<void> {
    if (!(stage in this.entries)) return;
    delete this.entries[stage];
    await writeFileAtomic(join(this.workDir, 'stage.json'), `${JSON.stringify({ version: 1, stages: this.entries }, null, 2)}\n`);
  }
}

/** SHA-256 of a file's bytes. */
export function hashFile(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path).on('data', (chunk) => hash.update(chunk)).on('error', reject).on('end', () => resolve(hash.digest('hex')));
  });
}

/** A stage key: SHA-256 over named file hashes and the options, in a stable order. */
export async function stageKey(files: Record<string, string>, options: unknown): Promise<string> {
  const hash = createHash('sha256');
  for (const name of Object.keys(files).sort()) hash.update(`${name}\0${await hashFile(files[name])}\0`);
  hash.update(JSON.stringify(options));
  return hash.digest('hex');
}
