import { readImage } from '../../core/image.js';
import { type ViewSet, frameImagePath } from '../../core/transforms-json.js';
import { compareImages } from '../../eval/metrics.js';
import type { FitBackend } from '../backends/backend.js';
import { renderFieldView } from '../render/render-view.js';

export interface ViewScore {
  filePath: string;
  psnr: number;
  ssim: number;
  maskedPsnr: number;
  maskedSsim: number;
}

export interface EvaluationResult {
  views: ViewScore[];
  psnr: number;
  ssim: number;
  maskedPsnr: number;
  maskedSsim: number;
}

/**
 * Renders the field at every camera of a view set and scores it against the set's images, both
 * composited on black (as `head3d compare` does): PSNR and SSIM over the whole image and over the
 * union of both alpha masks.
 */
export async function evaluateField(backend: FitBackend, viewSet: ViewSet, onView?: (done: number, total: number) => void): Promise<EvaluationResult> {
  const views: ViewScore[] = [];
  for (const frame of viewSet.frames) {
    const truth = await readImage(frameImagePath(viewSet, frame), `view image ${frame.filePath}`);
    const rendered = await renderFieldView(backend, frame.camera);
    const c = compareImages(rendered, truth);
    views.push({ filePath: frame.filePath, psnr: c.psnr, ssim: c.ssim, maskedPsnr: c.maskedPsnr, maskedSsim: c.maskedSsim });
    onView?.(views.length, viewSet.frames.length);
  }
  const mean = (key: keyof Omit<ViewScore, 'filePath'>) => views.reduce((s, v) => s + v[key], 0) / views.length;
  return { views, psnr: mean('psnr'), ssim: mean('ssim'), maskedPsnr: mean('maskedPsnr'), maskedSsim: mean('maskedSsim') };
}
