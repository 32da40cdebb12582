import { writeFileAtomic } from '../../core/atomic.js';
import { FieldReader, readJsonFile } from '../../core/json-file.js';
import { type CropSquare, sourceToCrop } from '../preprocess/crop.js';
import { FACE_POINT_COUNT } from '../preprocess/landmarks.js';
import type { CropLandmark } from './head-frame.js';

/** Maps preprocess's landmarks (source pixels) into crop pixels; z is scaled like x and y. */
export function landmarksInCrop(landmarks: [number, number, number][], crop: CropSquare, size: number): CropLandmark[] {
  return landmarks.map(([x, y, z]) => {
    const [u, v] = sourceToCrop(crop, [x, y], size);
    return [u, v, (z * size) / crop.side];
  });
}

/** Writes landmarks.json: `{ "space": "crop-pixels", "size": N, "landmarks": [[x, y, z], …] }`. */
export async function writeCropLandmarks(path: string, landmarks: CropLandmark[], size: number): Promise<void> {
  const rounded = landmarks.map((p) => p.map((v) => Math.round(v * 1000) / 1000));
  await writeFileAtomic(path, `${JSON.stringify({ space: 'crop-pixels', size, landmarks: rounded })}\n`);
}

export async function readCropLandmarks(path: string): Promise<CropLandmark[]> {
  const fields = new FieldReader(path);
  const root = fields.object(await readJsonFile(path, 'landmarks.json'), '(top level)');
  const list = fields.array(root.landmarks, 'landmarks');
  if (list.length < FACE_POINT_COUNT) fields.fail('landmarks', `must hold at least ${FACE_POINT_COUNT} points`);
  return list.map((p, i) => {
    const point = fields.array(p, `landmarks[${i}]`);
    return [0, 1, 2].map((k) => fields.number(point[k] ?? 0, `landmarks[${i}][${k}]`)) as CropLandmark;
  });
}
