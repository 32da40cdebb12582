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
  // One singly linked list of pixels per level (typed arrays: each pixel is queued exactly once).
  const head = new Int32Array(LEVELS).fill(-1);
  const tail = new Int32Array(LEVELS).fill(-1);
  const next = new Int32Array(n).fill(-1);
  const filled = new Float32Array(n);
  const queued = new Uint8Array(n);
  const push = (index: number, value: number) => {
    queued[index] = 1;
    filled[index] = value;
    const level = Math.max(0, Math.min(LEVELS - 1, Math.round(value * (LEVELS - 1))));
    if (tail[level] < 0) head[level] = index;
    else next[tail[level]] = index;
    tail[level] = index;
  };
  for (let x = 0; x < width; x++) {
    push(x, values[x]);
    if (height > 1) push((height - 1) * width + x, values[(height - 1) * width + x]);
  }
  for (let y = 1; y < height - 1; y++) {
    push(y * width, values[y * width]);
    if (width > 1) push(y * width + width - 1, values[y * width + width - 1]);
  }
  for (let level = 0; level < LEVELS; level++) {
    // The list can grow while it is walked: neighbours at or below this level join its end.
    for (let index = head[level]; index >= 0; index = next[index]) {
      const x = index % width;
      const here = filled[index];
      if (x > 0 && !queued[index - 1]) push(index - 1, Math.max(values[index - 1], here));
      if (x < width - 1 && !queued[index + 1]) push(index + 1, Math.max(values[index + 1], here));
      if (index >= width && !queued[index - width]) push(index - width, Math.max(values[index - width], here));
      if (index + width < n && !queued[index + width]) push(index + width, Math.max(values[index + width], here));
    }
  }
  return filled;
}
