import type { BackendChoice } from '../nerf/backends/create-backend.js';
import type { QualityPreset } from './presets.js';
import type { StageRecord } from './stage-record.js';

export type StageName = 'preprocess' | 'generate' | 'fit' | 'export';
export type OutputFormat = 'mesh' | 'splats' | 'both';

/** A progress event: which stage, and what it is doing now. */
export interface BuildProgress {
  stage: StageName;
  message: string;
}

/** What every stage of a build sees. */
export interface BuildContext {
  workDir: string;
  record: StageRecord;
  preset: QualityPreset;
  seed: number;
  backend: BackendChoice;
  threads: number;
  force: boolean;
  /** Seconds of fitting between resume checkpoints (field.h3df.resume). */
  checkpointSeconds: number;
  progress: (stage: StageName, message: string) => void;
}

/** One stage's line in the summary. */
export interface StageReport {
  stage: StageName;
  skipped: boolean;
  seconds: number;
  facts: Record<string, unknown>;
}
