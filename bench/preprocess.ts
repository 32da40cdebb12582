/**
 * Preprocessing time per portrait, model load included: each of the 16 portraits in
 * ../shared/data/portraits is preprocessed in a fresh `head3d preprocess` process (as a user runs
 * it), and the wall time is recorded. Writes bench/results/preprocess.json and prints one line.
 *
 *     npm run build && npx tsx bench/preprocess.ts
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir, cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const portraits = resolve(root, '../shared/data/portraits');
const cli = join(root, 'dist/cli/main.js');
const work = mkdtempSync(join(tmpdir(), 'h3d-bench-pp-'));
const loadBefore = loadavg();
const runs: { portrait: string; seconds: number; ok: boolean; detail: string }[] = [];
for (const file of readdirSync(portraits).filter((f) => /\.(png|jpe?g)$/i.test(f)).sort()) {
  const started = performance.now();
  const run = spawnSync(process.execPath, [cli, '--json', 'preprocess', join(portraits, file), '-o', join(work, file)], { encoding: 'utf8' });
  const seconds = (performance.now() - started) / 1000;
  const ok = run.status === 0;
  const detail = ok ? `yaw ${JSON.parse(run.stdout).camera.yawDeg.toFixed(1)}°` : run.stderr.trim().split('\n')[0];
  runs.push({ portrait: file, seconds: Number(seconds.toFixed(3)), ok, detail });
  console.error(`${file}: ${seconds.toFixed(2)} s ${detail}`);
}
rmSync(work, { recursive: true, force: true });
const times = runs.map((r) => r.seconds).sort((a, b) => a - b);
const mean = times.reduce((a, b) => a + b, 0) / times.length;
const median = times[Math.floor(times.length / 2)];
const result = {
  benchmark: 'preprocess',
  what: 'wall time of one `head3d preprocess` process per portrait (model load, detection with mirror averaging, pose, crop, selfie-segmentation matte with guided-filter refinement, writing)',
  cpus: cpus().length,
  // The machine may be shared: its 1/5/15-minute load averages before and after the runs.
  loadAverage: { before: loadBefore.map((v) => Number(v.toFixed(2))), after: loadavg().map((v) => Number(v.toFixed(2))) },
  goalSeconds: 3,
  meanSeconds: Number(mean.toFixed(3)),
  medianSeconds: median,
  maxSeconds: times[times.length - 1],
  runs,
};
await mkdir(join(root, 'bench/results'), { recursive: true });
await writeFile(join(root, 'bench/results/preprocess.json'), `${JSON.stringify(result, null, 2)}\n`);
console.log(`preprocess: ${runs.length} portraits, mean ${mean.toFixed(2)} s, median ${median.toFixed(2)} s, max ${times[times.length - 1].toFixed(2)} s per portrait (goal ≤ 3 s), ${runs.filter((r) => r.ok).length} cropped; load average ${result.loadAverage.before[0]} → ${result.loadAverage.after[0]} on ${result.cpus} CPUs`);
