import type { BuildContext, StageName, StageReport } from './build-context.js';

/** What a stage's body hands back: its outputs (for the up-to-date check) and summary facts. */
export interface StageOutcome {
  outputs: string[];
  facts: Record<string, unknown>;
}

/**
 * Runs a stage unless stage.json shows it finished with the same key and its outputs exist
 * (`--force` runs it anyway). The entry is forgotten before the body runs, so a stage killed
 * half-way is never mistaken for a finished one.
 */
export async function runStage(context: BuildContext, stage: StageName, key: string, body: () => Promise<StageOutcome>): Promise<StageReport> {
  const previous = context.force ? undefined : context.record.upToDate(stage, key);
  if (previous) {
    context.progress(stage, 'up to date, skipped');
    return { stage, skipped: true, seconds: 0, facts: previous.facts };
  }
  await context.record.forget(stage);
  const started = performance.now();
  const outcome = await body();
  const seconds = (performance.now() - started) / 1000;
  await context.record.save(stage, { key, outputs: outcome.outputs, seconds, facts: outcome.facts });
  return { stage, skipped: false, seconds, facts: outcome.facts };
}
