/**
 * Grey-level hole filling (morphological reconstruction by erosion from the border): every pixel
 * is raised to the lowest level at which it can be reached from the image border without passing
 * a higher value. Background regions connected to the border keep their values; a low basin
 * enclosed by foreground (a badge on a cap that a segmentation model found see-through) rises to
 * the level of the foreground around it. Priority flood with a bucket queue over 256 levels: O(n).
 */
export function fillHoles(values: Float32Array, width: number, height: number): Float32Array {
  const n = width * height;
  const LEVELS = 256;
  const level = (v: number) => Math.max(0, Math.min(LEVELS - 1, Math.round(v * (LEVELS - 1))));
  const buckets: number[][] = Array.from({ length: LEVELS }, () => []);
  const filled = new Float32Array(n);
  const done = new Uint8Array(n);
  const push = (index: number, value: number) => {
    done[index] = 1;
    filled[index] = value;
    buckets[level(value)].push(index);
  };
  for (let x = 0; x < width; x++) {
    push(x, values[x]);
    if (height > 1) push((height - 1) * width + x, values[(height - 1) * width + x]);
  }
  for (let y = 1; y < height - 1; y++) {
    push(y * width, values[y * width]);
    if (width > 1) push(y * width + width - 1, values[y * width + width - 1]);
  }
  for (let b = 0; b < LEVELS; b++) {
    const bucket = buckets[b];
    // The bucket can grow while it is drained: neighbours at or below this level join it.
    for (let k = 0; k < bucket.length; k++) {
      const index = bucket[k];
      const x = index % width, y = (index - x) / width;
      const here = filled[index];
      const visit = (j: number) => {
        if (!done[j]) push(j, Math.max(values[j], here));
      };
      if (x > 0) visit(index - 1);
      if (x < width - 1) visit(index + 1);
      if (y > 0) visit(index - width);
      if (y < height - 1) visit(index + width);
    }
    bucket.length = 0;
  }
  return filled;
}
