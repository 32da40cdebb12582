import { type Camera, type Intrinsics } from './camera.js';
import { type Mat4 } from './mat4.js';
import { FieldReader, readJsonFile } from './json-file.js';
import { writeFileAtomic } from './atomic.js';

/**
 * One PanoHead/EG3D label: cam2world (OpenCV axes, row-major 4×4) and intrinsics normalised by the
 * image size (row-major 3×3: fx, 0, cx / 0, fy, cy / 0, 0, 1).
 */
export interface PanoHeadLabel {
  name: string;
  cam2world: Mat4;
  normalisedK: number[];
}

/** Reads `{"labels": [[name, [25 numbers]], …]}`; numbers may be written as strings, as PanoHead's crop script does. */
export async function readDatasetJson(path: string): Promise<PanoHeadLabel[]> {
  const fields = new FieldReader(path);
  const root = fields.object(await readJsonFile(path, 'dataset.json'), '(top level)');
  const labels = fields.array(root.labels, 'labels');
  return labels.map((entry, i) => {
    const pair = fields.array(entry, `labels[${i}]`);
    if (pair.length !== 2) fields.fail(`labels[${i}]`, 'must be [file name, [25 numbers]]');
    const name = fields.string(pair[0], `labels[${i}][0]`);
    const numbers = fields.array(pair[1], `labels[${i}][1]`);
    if (numbers.length !== 25) fields.fail(`labels[${i}][1]`, `must hold 25 numbers (16 for cam2world, 9 for intrinsics), not ${numbers.length}`);
    const values = numbers.map((n, k) => fields.number(n, `labels[${i}][1][${k}]`, { allowString: true }));
    return { name, cam2world: values.slice(0, 16), normalisedK: values.slice(16) };
  });
}

/** Writes labels with 6 decimals, the precision PanoHead's files carry. */
export async function writeDatasetJson(path: string, labels: PanoHeadLabel[]): Promise<void> {
  const round = (n: number) => Number(n.toFixed(6)) + 0; // + 0 turns -0 into 0
  const json = { labels: labels.map((l) => [l.name, [...l.cam2world, ...l.normalisedK].map(round)]) };
  await writeFileAtomic(path, `${JSON.stringify(json)}\n`);
}

export function labelFromCamera(name: string, camera: Camera): PanoHeadLabel {
  const k = camera.intrinsics;
  return {
    name,
    cam2world: camera.cam2world.slice(),
    normalisedK: [k.fx / k.width, 0, k.cx / k.width, 0, k.fy / k.height, k.cy / k.height, 0, 0, 1],
  };
}

export function cameraFromLabel(label: PanoHeadLabel, width: number, height: number): Camera {
  const k = label.normalisedK;
  const intrinsics: Intrinsics = { fx: k[0] * width, fy: k[4] * height, cx: k[2] * width, cy: k[5] * height, width, height };
  return { intrinsics, cam2world: label.cam2world.slice() };
}
